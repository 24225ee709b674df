// Shared by every translation unit of the C ABI (precompiled header).
// Convention: every export returns nullptr on success or a message (valid until the next call on the
// same thread) on failure; results come back through out-parameters. No C++ exception crosses the ABI.
#pragma once
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/csrc/autograd/generated/variable_factories.h>
#include <cstdint>
#include <string>
#include <vector>

#define MN_API extern "C" __attribute__((visibility("default")))

using Handle = at::Tensor*;
using GenHandle = at::Generator*;

namespace mn {
const char* fail(const char* what);
inline Handle box(at::Tensor t) { return new at::Tensor(std::move(t)); }
// libtorch's autograd may return "efficient zero tensors" (e.g. the second derivative of abs): they have no
// storage, so reading their data crashes and in-place ops on them fail. Everything that leaves autograd, or whose
// bytes are read, goes through this.
inline at::Tensor materialize(at::Tensor t) {
  if (t.defined() && t._is_zerotensor()) return at::zeros(t.sizes(), t.options());
  return t;
}
inline at::IntArrayRef ints(const int64_t* p, int n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }
at::ScalarType dtype(int code);
int dtype_code(at::ScalarType t);
at::Device device(int type, int index);
inline at::TensorOptions options(int dtype_code, int device_type, int device_index, bool requires_grad = false) {
  return at::TensorOptions().dtype(dtype(dtype_code)).device(device(device_type, device_index)).requires_grad(requires_grad);
}
// An optional tensor: nullptr means "not given".
inline c10::optional<at::Tensor> opt(Handle h) { return h ? c10::optional<at::Tensor>(*h) : c10::nullopt; }
inline at::Tensor or_undef(Handle h) { return h ? *h : at::Tensor(); }
inline c10::optional<at::Generator> gen(GenHandle g) { return g ? c10::optional<at::Generator>(*g) : c10::nullopt; }
}  // namespace mn

// Wraps a body so that any exception becomes the returned message.
#define MN_TRY try {
#define MN_END                                              \
  return nullptr;                                           \
  }                                                         \
  catch (const c10::Error& e) { return mn::fail(e.what_without_backtrace()); } \
  catch (const std::exception& e) { return mn::fail(e.what()); } \
  catch (...) { return mn::fail("unknown C++ exception"); }

// Errors, dtype/device codes, lifetime, metadata, reading values back, threads, devices.
#include "common.h"
#include <ATen/Parallel.h>
#include <c10/util/Logging.h>
#include <cstdlib>
#include <cstring>

namespace {
// libtorch symbolizes a C++ backtrace for every c10::Error it constructs (milliseconds per error); the binding only
// passes on the message, so the backtrace is skipped unless MN_CPP_STACKTRACES is set (for debugging the native layer).
struct CheapErrors {
  CheapErrors() {
    if (!std::getenv("MN_CPP_STACKTRACES")) c10::SetStackTraceFetcher([] { return std::string(); });
  }
} cheap_errors;
}  // namespace

namespace mn {
static thread_local std::string last_error;
const char* fail(const char* what) {
  last_error = what ? what : "unknown error";
  return last_error.c_str();
}
// Codes shared with the C# enum ScalarType; keep in sync with DType.cs.
at::ScalarType dtype(int code) {
  switch (code) {
    case 0: return at::kByte;
    case 1: return at::kChar;
    case 2: return at::kShort;
    case 3: return at::kInt;
    case 4: return at::kLong;
    case 5: return at::kHalf;
    case 6: return at::kFloat;
    case 7: return at::kDouble;
    case 11: return at::kBool;
    default: throw std::invalid_argument("unknown dtype code " + std::to_string(code));
  }
}
int dtype_code(at::ScalarType t) {
  switch (t) {
    case at::kByte: return 0;
    case at::kChar: return 1;
    case at::kShort: return 2;
    case at::kInt: return 3;
    case at::kLong: return 4;
    case at::kHalf: return 5;
    case at::kFloat: return 6;
    case at::kDouble: return 7;
    case at::kBool: return 11;
    default: return -1;
  }
}
at::Device device(int type, int index) {
  switch (type) {
    case 0: return at::Device(at::kCPU);
    case 1: return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index < 0 ? 0 : index));
    default: throw std::invalid_argument("unknown device type " + std::to_string(type));
  }
}
}  // namespace mn

MN_API void mn_free(Handle h) { delete h; }

MN_API const char* mn_version(const char** out) {
  MN_TRY *out = MN_TORCH_VERSION; MN_END
}

MN_API const char* mn_info(Handle h, int* dim, int* dtype, int* device_type, int* device_index, int* requires_grad) {
  MN_TRY
  const at::Tensor& t = *h;
  *dim = static_cast<int>(t.dim());
  *dtype = mn::dtype_code(t.scalar_type());
  *device_type = t.device().is_cuda() ? 1 : 0;
  *device_index = t.device().has_index() ? t.device().index() : -1;
  *requires_grad = t.requires_grad() ? 1 : 0;
  MN_END
}

MN_API const char* mn_shape(Handle h, int64_t* out, int capacity) {
  MN_TRY
  auto s = h->sizes();
  TORCH_CHECK(static_cast<int>(s.size()) <= capacity, "shape buffer too small");
  for (size_t i = 0; i < s.size(); ++i) out[i] = s[i];
  MN_END
}

MN_API const char* mn_numel(Handle h, int64_t* out) { MN_TRY *out = h->numel(); MN_END }

// Copies the tensor's elements (any device, any layout) into dst as dtype `dtype` in row-major order.
MN_API const char* mn_copy_out(Handle h, int dtype, void* dst, int64_t nbytes) {
  MN_TRY
  at::Tensor t = mn::materialize(h->detach()).to(at::kCPU, mn::dtype(dtype)).contiguous();
  int64_t need = t.numel() * static_cast<int64_t>(t.element_size());
  TORCH_CHECK(need == nbytes, "copy_out: buffer holds ", nbytes, " bytes, tensor needs ", need);
  if (need) std::memcpy(dst, t.data_ptr(), static_cast<size_t>(need));
  MN_END
}

MN_API const char* mn_item(Handle h, double* out) {
  MN_TRY
  TORCH_CHECK(h->numel() == 1, "item(): a Tensor with ", h->numel(), " elements cannot be converted to Scalar");
  *out = mn::materialize(*h).item<double>();
  MN_END
}

// Creates a tensor from host memory holding elements of `dtype`; the data are copied.
MN_API const char* mn_from_data(const void* data, const int64_t* shape, int ndim, int dtype, int dev_type, int dev_index,
                                int requires_grad, Handle* out) {
  MN_TRY
  auto opts = at::TensorOptions().dtype(mn::dtype(dtype));
  at::Tensor t = at::empty(mn::ints(shape, ndim), opts);
  if (t.numel()) std::memcpy(t.data_ptr(), data, static_cast<size_t>(t.numel() * t.element_size()));
  t = t.to(mn::device(dev_type, dev_index));
  if (requires_grad) t.set_requires_grad(true);
  *out = mn::box(std::move(t));
  MN_END
}

MN_API const char* mn_set_num_threads(int n) { MN_TRY at::set_num_threads(n); MN_END }
MN_API int mn_get_num_threads() { return at::get_num_threads(); }
MN_API int mn_cuda_device_count() {
  try { return static_cast<int>(at::detail::getCUDAHooks().getNumGPUs()); } catch (...) { return 0; }
}
MN_API int mn_cuda_is_available() {
  try { return at::detail::getCUDAHooks().hasCUDA() ? 1 : 0; } catch (...) { return 0; }
}

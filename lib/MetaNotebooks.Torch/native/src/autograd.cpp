// Autograd: requires_grad, .grad, backward, torch.autograd.grad, grad mode.
#include "common.h"
#include <torch/csrc/autograd/function.h>

MN_API const char* mn_set_requires_grad(Handle a, int on) {
  MN_TRY
  // As PyTorch's requires_grad_(): libtorch's C++ setter would silently keep a non-leaf's flag.
  TORCH_CHECK(on || a->is_leaf(), "you can only change requires_grad flags of leaf variables. If you want to use a computed "
              "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().");
  a->set_requires_grad(on != 0);
  MN_END
}

// The accumulated .grad (nullptr out when none).
MN_API const char* mn_grad(Handle a, Handle* out) {
  MN_TRY
  at::Tensor& g = a->mutable_grad();
  if (g.defined() && g._is_zerotensor()) g = mn::materialize(g);  // so that optimisers can update it in place
  *out = g.defined() ? mn::box(g) : nullptr;
  MN_END
}

// Sets .grad (nullptr clears it, as optimizer.zero_grad(set_to_none=True)).
MN_API const char* mn_set_grad(Handle a, Handle g) { MN_TRY a->mutable_grad() = mn::or_undef(g); MN_END }

MN_API const char* mn_retain_grad(Handle a) { MN_TRY a->retain_grad(); MN_END }

MN_API const char* mn_autograd_info(Handle a, int* is_leaf, const char** grad_fn) {
  MN_TRY
  *is_leaf = a->is_leaf() ? 1 : 0;
  static thread_local std::string name;
  auto fn = a->grad_fn();
  name = fn ? fn->name() : "";
  *grad_fn = name.c_str();
  MN_END
}

MN_API const char* mn_backward(Handle a, Handle gradient, int retain_graph, int create_graph) {
  MN_TRY
  c10::optional<bool> retain = retain_graph < 0 ? c10::nullopt : c10::optional<bool>(retain_graph != 0);
  a->backward(mn::or_undef(gradient), retain, create_graph != 0);
  MN_END
}

// torch.autograd.grad. grad_outputs may be nullptr (then each output must be a scalar) or hold nullptrs.
// Unused inputs (allow_unused) come back as nullptr.
MN_API const char* mn_autograd_grad(const Handle* outputs, int nout, const Handle* inputs, int nin, const Handle* grad_outputs,
                                    int retain_graph, int create_graph, int allow_unused, Handle* results) {
  MN_TRY
  std::vector<at::Tensor> outs, ins, gos;
  for (int i = 0; i < nout; ++i) outs.push_back(*outputs[i]);
  for (int i = 0; i < nin; ++i) ins.push_back(*inputs[i]);
  for (int i = 0; i < nout; ++i) {
    Handle g = grad_outputs ? grad_outputs[i] : nullptr;
    if (g) { gos.push_back(*g); continue; }
    TORCH_CHECK(outs[i].numel() == 1, "grad can be implicitly created only for scalar outputs; output ", i, " has shape ",
                outs[i].sizes(), ": pass gradOutputs");
    gos.push_back(at::ones_like(outs[i]));
  }
  c10::optional<bool> retain = retain_graph < 0 ? c10::nullopt : c10::optional<bool>(retain_graph != 0);
  auto gs = torch::autograd::grad(outs, ins, gos, retain, create_graph != 0, allow_unused != 0);
  for (int i = 0; i < nin; ++i) results[i] = gs[i].defined() ? mn::box(mn::materialize(gs[i])) : nullptr;
  MN_END
}

MN_API int mn_grad_enabled() { return at::GradMode::is_enabled() ? 1 : 0; }
MN_API void mn_set_grad_enabled(int on) { at::GradMode::set_enabled(on != 0); }

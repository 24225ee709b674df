// torch.nn.functional: layers, activations, losses, distances, recurrent cells.
#include "common.h"
#include <torch/csrc/autograd/custom_function.h>

namespace {
// Euclidean cdist whose backward is built from differentiable ops, so that it has a second derivative
// (libtorch's _cdist_backward has none: "the derivative for '_cdist_backward' is not implemented").
// Forward is libtorch's own cdist; for d = ‖x1ᵢ − x2ⱼ‖ and w = g / d (0 where d = 0):
// ∂/∂x1 = x1 · Σⱼ w − w x2,  ∂/∂x2 = x2 · Σᵢ w − wᵀ x1.
struct EuclideanCdist : public torch::autograd::Function<EuclideanCdist> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x1, const at::Tensor& x2) {
    at::Tensor d = at::cdist(x1, x2, 2.0);
    ctx->save_for_backward({x1, x2, d});
    return d;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &x1 = saved[0], &x2 = saved[1], &d = saved[2];
    at::Tensor zero = d == 0;
    at::Tensor w = at::where(zero, at::zeros_like(d), grads[0] / at::where(zero, at::ones_like(d), d));
    at::Tensor g1 = x1 * w.sum(-1, true) - at::matmul(w, x2);
    at::Tensor g2 = x2 * w.sum(-2).unsqueeze(-1) - at::matmul(w.transpose(-1, -2), x1);
    return {g1, g2};
  }
};

at::Tensor cdist_impl(const at::Tensor& x1, const at::Tensor& x2, double p) {
  bool grad = at::GradMode::is_enabled() && (x1.requires_grad() || x2.requires_grad());
  if (!grad) return at::cdist(x1, x2, p);
  TORCH_CHECK(x1.dim() >= 2 && x2.dim() >= 2, "cdist only supports at least 2D tensors, X1 got: ", x1.dim(), "D, X2 got: ", x2.dim(), "D");
  TORCH_CHECK(x1.size(-1) == x2.size(-1), "X1 and X2 must have the same number of columns. X1: ", x1.size(-1), " X2: ", x2.size(-1));
  TORCH_CHECK(p >= 0, "cdist only supports non-negative p values");
  // Broadcast the batch dims first (expand's backward sums the gradient back to each input's shape).
  auto b1 = x1.sizes().slice(0, x1.dim() - 2), b2 = x2.sizes().slice(0, x2.dim() - 2);
  std::vector<int64_t> batch = at::infer_size(b1, b2);
  std::vector<int64_t> s1(batch), s2(batch);
  s1.insert(s1.end(), {x1.size(-2), x1.size(-1)});
  s2.insert(s2.end(), {x2.size(-2), x2.size(-1)});
  at::Tensor a = x1.expand(s1), b = x2.expand(s2);
  if (p == 2) return EuclideanCdist::apply(a, b);
  // Other p: the norm of the differences, whose derivatives of every order libtorch implements.
  return at::linalg_vector_norm(a.unsqueeze(-2) - b.unsqueeze(-3), p, {-1}, false, c10::nullopt);
}
}  // namespace

MN_API const char* mn_linear(Handle x, Handle w, Handle b, Handle* out) {
  MN_TRY *out = mn::box(at::linear(*x, *w, mn::opt(b))); MN_END
}

// p = [stride h, w, padding h, w, dilation h, w, output_padding h, w]; transposed selects conv_transpose2d.
MN_API const char* mn_conv2d(Handle x, Handle w, Handle b, const int64_t* p, int64_t groups, int transposed, Handle* out) {
  MN_TRY
  if (transposed)
    *out = mn::box(at::conv_transpose2d(*x, *w, mn::opt(b), {p[0], p[1]}, {p[2], p[3]}, {p[6], p[7]}, groups, {p[4], p[5]}));
  else
    *out = mn::box(at::conv2d(*x, *w, mn::opt(b), {p[0], p[1]}, {p[2], p[3]}, {p[4], p[5]}, groups));
  MN_END
}

// op 0 max_pool2d, 1 avg_pool2d. p = [kernel h, w, stride h, w, padding h, w, dilation h, w].
MN_API const char* mn_pool2d(int op, Handle x, const int64_t* p, int ceil_mode, int count_include_pad, Handle* out) {
  MN_TRY
  if (op == 0)
    *out = mn::box(at::max_pool2d(*x, {p[0], p[1]}, {p[2], p[3]}, {p[4], p[5]}, {p[6], p[7]}, ceil_mode != 0));
  else
    *out = mn::box(at::avg_pool2d(*x, {p[0], p[1]}, {p[2], p[3]}, {p[4], p[5]}, ceil_mode != 0, count_include_pad != 0));
  MN_END
}

MN_API const char* mn_adaptive_avg_pool2d(Handle x, int64_t h, int64_t w, Handle* out) {
  MN_TRY *out = mn::box(at::adaptive_avg_pool2d(*x, {h, w})); MN_END
}

MN_API const char* mn_batch_norm(Handle x, Handle running_mean, Handle running_var, Handle weight, Handle bias, int training,
                                 double momentum, double eps, Handle* out) {
  MN_TRY
  *out = mn::box(at::batch_norm(*x, mn::opt(weight), mn::opt(bias), mn::opt(running_mean), mn::opt(running_var), training != 0,
                                momentum, eps, at::globalContext().userEnabledCuDNN()));
  MN_END
}

MN_API const char* mn_layer_norm(Handle x, const int64_t* shape, int n, Handle weight, Handle bias, double eps, Handle* out) {
  MN_TRY *out = mn::box(at::layer_norm(*x, mn::ints(shape, n), mn::opt(weight), mn::opt(bias), eps)); MN_END
}

// Dropout with an optional generator (libtorch's own dropout takes none, so a seeded mask is drawn here).
MN_API const char* mn_dropout(Handle x, double p, int training, GenHandle g, Handle* out) {
  MN_TRY
  TORCH_CHECK(p >= 0 && p <= 1, "dropout probability has to be between 0 and 1, but got ", p);
  if (!training || p == 0) { *out = mn::box(*x); return nullptr; }
  if (p == 1) { *out = mn::box(*x * 0); return nullptr; }
  at::Tensor mask = at::empty_like(*x, x->options().requires_grad(false)).bernoulli_(1 - p, mn::gen(g));
  *out = mn::box(*x * mask / (1 - p));
  MN_END
}

// Activations with parameters. op: 0 leaky_relu(a = slope), 1 elu(a = alpha), 2 softplus(a = beta, b = threshold),
// 3 softmax(dim = a), 4 log_softmax(dim = a), 5 gelu, 6 hardtanh(a, b)
MN_API const char* mn_activation(int op, Handle x, double a, double b, Handle* out) {
  MN_TRY
  at::Tensor r;
  switch (op) {
    case 0: r = at::leaky_relu(*x, a); break;
    case 1: r = at::elu(*x, a); break;
    case 2: r = at::softplus(*x, a, b); break;
    case 3: r = at::softmax(*x, static_cast<int64_t>(a)); break;
    case 4: r = at::log_softmax(*x, static_cast<int64_t>(a)); break;
    case 5: r = at::gelu(*x); break;
    case 6: r = at::hardtanh(*x, a, b); break;
    default: TORCH_CHECK(false, "unknown activation ", op);
  }
  *out = mn::box(std::move(r));
  MN_END
}

// Losses. reduction: 0 none, 1 mean, 2 sum (at::Reduction). op: 0 cross_entropy(target = class indices or
// probabilities; arg = label smoothing), 1 nll_loss, 2 mse_loss, 3 binary_cross_entropy,
// 4 binary_cross_entropy_with_logits(extra = pos_weight), 5 l1_loss, 6 smooth_l1 (arg = beta).
MN_API const char* mn_loss(int op, Handle input, Handle target, Handle weight, Handle extra, int reduction, int64_t ignore_index,
                           double arg, Handle* out) {
  MN_TRY
  at::Tensor r;
  switch (op) {
    case 0: r = at::cross_entropy_loss(*input, *target, mn::opt(weight), reduction, ignore_index, arg); break;
    case 1: r = at::nll_loss_nd(*input, *target, mn::opt(weight), reduction, ignore_index); break;
    case 2: r = at::mse_loss(*input, *target, reduction); break;
    case 3: r = at::binary_cross_entropy(*input, *target, mn::opt(weight), reduction); break;
    case 4: r = at::binary_cross_entropy_with_logits(*input, *target, mn::opt(weight), mn::opt(extra), reduction); break;
    case 5: r = at::l1_loss(*input, *target, reduction); break;
    case 6: r = at::smooth_l1_loss(*input, *target, reduction, arg); break;
    default: TORCH_CHECK(false, "unknown loss ", op);
  }
  *out = mn::box(std::move(r));
  MN_END
}

// op: 0 cosine_similarity(dim = i, eps = a), 1 pairwise_distance(p = a, eps = b, keepdim = i), 2 cdist(p = a)
MN_API const char* mn_distance(int op, Handle x1, Handle x2, double a, double b, int64_t i, Handle* out) {
  MN_TRY
  at::Tensor r;
  switch (op) {
    case 0: r = at::cosine_similarity(*x1, *x2, i, a); break;
    case 1: r = at::pairwise_distance(*x1, *x2, a, b, i != 0); break;
    case 2: r = cdist_impl(*x1, *x2, a); break;
    default: TORCH_CHECK(false, "unknown distance ", op);
  }
  *out = mn::box(std::move(r));
  MN_END
}

MN_API const char* mn_one_hot(Handle x, int64_t num_classes, Handle* out) { MN_TRY *out = mn::box(at::one_hot(*x, num_classes)); MN_END }

// mode: 0 nearest, 1 bilinear, 2 area. Either size (h, w > 0) or scale factors; as F.interpolate, given scale factors
// give the output size floor(in · scale) and are passed on to the kernel (source positions use 1 / scale).
MN_API const char* mn_interpolate(Handle x, int mode, int64_t h, int64_t w, double sh, double sw, int align_corners, Handle* out) {
  MN_TRY
  TORCH_CHECK(x->dim() == 4, "interpolate expects a 4-D [N, C, H, W] input, got ", x->dim(), "-D");
  bool scaled = h <= 0 || w <= 0;
  TORCH_CHECK(!scaled || (sh > 0 && sw > 0), "interpolate needs an output size or positive scale factors");
  int64_t oh = scaled ? static_cast<int64_t>(std::floor(x->size(2) * sh)) : h;
  int64_t ow = scaled ? static_cast<int64_t>(std::floor(x->size(3) * sw)) : w;
  c10::optional<double> scale_h = scaled ? c10::optional<double>(sh) : c10::nullopt;
  c10::optional<double> scale_w = scaled ? c10::optional<double>(sw) : c10::nullopt;
  at::Tensor r;
  switch (mode) {
    case 0: r = at::upsample_nearest2d(*x, {oh, ow}, scale_h, scale_w); break;
    case 1: r = at::upsample_bilinear2d(*x, {oh, ow}, align_corners != 0, scale_h, scale_w); break;
    case 2: r = at::adaptive_avg_pool2d(*x, {oh, ow}); break;
    default: TORCH_CHECK(false, "unknown interpolation mode ", mode);
  }
  *out = mn::box(std::move(r));
  MN_END
}

// mode: 0 constant(value), 1 reflect, 2 replicate, 3 circular (F.pad: pads the last len/2 dims, last dim first)
MN_API const char* mn_pad(Handle x, const int64_t* pads, int n, int mode, double value, Handle* out) {
  MN_TRY
  static const char* modes[] = {"constant", "reflect", "replicate", "circular"};
  TORCH_CHECK(mode >= 0 && mode <= 3, "unknown pad mode ", mode);
  *out = mn::box(at::pad(*x, mn::ints(pads, n), modes[mode], mode == 0 ? c10::optional<double>(value) : c10::nullopt));
  MN_END
}

// F.affine_grid: the sampling grid [N, H, W, 2] (or [N, D, H, W, 3]) of the affine maps theta [N, 2, 3] ([N, 3, 4]) for an
// output of `size` [N, C, H, W] ([N, C, D, H, W]); with F.affine_grid's argument checks, which the aten op lacks.
MN_API const char* mn_affine_grid(Handle theta, const int64_t* size, int n, int align_corners, Handle* out) {
  MN_TRY
  TORCH_CHECK(theta->is_floating_point(), "Expected theta to have floating point type, but got ", theta->scalar_type());
  TORCH_CHECK(n == 4 || n == 5, "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. Got size of length ", n, ".");
  int64_t rows = n - 2;
  TORCH_CHECK(theta->dim() == 3 && theta->size(1) == rows && theta->size(2) == rows + 1,
              "Expected a batch of ", rows, "D affine matrices of shape Nx", rows, "x", rows + 1, " for size ", mn::ints(size, n),
              ". Got ", theta->sizes(), ".");
  TORCH_CHECK(theta->size(0) == size[0], "theta holds ", theta->size(0), " affine matrices but size asks for a batch of ", size[0]);
  for (int i = 2; i < n; i++) TORCH_CHECK(size[i] > 0, "Expected non-zero, positive output size. Got ", mn::ints(size, n));
  *out = mn::box(at::affine_grid_generator(*theta, mn::ints(size, n), align_corners != 0));
  MN_END
}

// F.grid_sample. mode: 0 bilinear, 1 nearest, 2 bicubic; padding: 0 zeros, 1 border, 2 reflection (aten's codes).
MN_API const char* mn_grid_sample(Handle x, Handle grid, int mode, int padding, int align_corners, Handle* out) {
  MN_TRY
  TORCH_CHECK(mode >= 0 && mode <= 2, "unknown grid_sample mode ", mode);
  TORCH_CHECK(padding >= 0 && padding <= 2, "unknown grid_sample padding mode ", padding);
  TORCH_CHECK(mode != 2 || x->dim() == 4, "bicubic grid_sample only supports 4-D input");
  *out = mn::box(at::grid_sampler(*x, *grid, mode, padding, align_corners != 0));
  MN_END
}

// op 0 lstm_cell → (h', c'), 1 gru_cell → h'
MN_API const char* mn_rnn_cell(int op, Handle x, Handle h, Handle c, Handle w_ih, Handle w_hh, Handle b_ih, Handle b_hh,
                               Handle* h_out, Handle* c_out) {
  MN_TRY
  if (op == 0) {
    auto r = at::lstm_cell(*x, {*h, *c}, *w_ih, *w_hh, mn::opt(b_ih), mn::opt(b_hh));
    *h_out = mn::box(std::get<0>(r));
    *c_out = mn::box(std::get<1>(r));
  } else {
    *h_out = mn::box(at::gru_cell(*x, *h, *w_ih, *w_hh, mn::opt(b_ih), mn::opt(b_hh)));
  }
  MN_END
}

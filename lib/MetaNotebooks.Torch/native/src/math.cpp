// Element-wise arithmetic, comparisons, reductions, linear algebra. Op codes are mirrored in Ops.cs.
#include "common.h"
#include <ATen/ScalarOps.h>

MN_API const char* mn_unary(int op, Handle a, Handle* out) {
  MN_TRY
  const at::Tensor& x = *a;
  at::Tensor r;
  switch (op) {
    case 0: r = at::neg(x); break;
    case 1: r = at::exp(x); break;
    case 2: r = at::log(x); break;
    case 3: r = at::sin(x); break;
    case 4: r = at::cos(x); break;
    case 5: r = at::tanh(x); break;
    case 6: r = at::sigmoid(x); break;
    case 7: r = at::relu(x); break;
    case 8: r = at::abs(x); break;
    case 9: r = at::sqrt(x); break;
    case 10: r = at::sign(x); break;
    case 11: r = at::floor(x); break;
    case 12: r = at::ceil(x); break;
    case 13: r = at::round(x); break;
    case 14: r = at::logical_not(x); break;
    case 15: r = at::square(x); break;
    case 16: r = at::rsqrt(x); break;
    case 17: r = at::log1p(x); break;
    case 18: r = at::expm1(x); break;
    case 19: r = at::reciprocal(x); break;
    case 20: r = at::isnan(x); break;
    case 21: r = at::erf(x); break;
    case 22: r = at::clone(x); break;
    case 23: r = x.contiguous(); break;
    case 24: r = x.detach(); break;
    case 25: r = at::isfinite(x); break;
    case 26: r = at::log2(x); break;
    case 27: r = at::trunc(x); break;
    case 28: r = at::t(x); break;
    case 29: r = at::silu(x); break;
    case 30: r = at::erfinv(x); break;
    default: TORCH_CHECK(false, "unknown unary op ", op);
  }
  *out = mn::box(std::move(r));
  MN_END
}

static at::Tensor binary(int op, const at::Tensor& a, const at::Tensor& b) {
  switch (op) {
    case 0: return at::add(a, b);
    case 1: return at::sub(a, b);
    case 2: return at::mul(a, b);
    case 3: return at::div(a, b);
    case 4: return at::pow(a, b);
    case 5: return at::maximum(a, b);
    case 6: return at::minimum(a, b);
    case 7: return at::eq(a, b);
    case 8: return at::ne(a, b);
    case 9: return at::lt(a, b);
    case 10: return at::le(a, b);
    case 11: return at::gt(a, b);
    case 12: return at::ge(a, b);
    case 13: return at::atan2(a, b);
    case 14: return at::logical_and(a, b);
    case 15: return at::logical_or(a, b);
    case 16: return at::remainder(a, b);
    case 17: return at::matmul(a, b);
    case 18: return at::mm(a, b);
    case 19: return at::bmm(a, b);
    case 20: return at::floor_divide(a, b);
    case 21: return at::logical_xor(a, b);
    case 22: return at::dot(a, b);
    case 23: return at::outer(a, b);
    default: TORCH_CHECK(false, "unknown binary op ", op);
  }
}

MN_API const char* mn_binary(int op, Handle a, Handle b, Handle* out) {
  MN_TRY *out = mn::box(binary(op, *a, *b)); MN_END
}

// tensor (op) scalar (s, or si when is_integer); reverse = 1 computes scalar (op) tensor. Scalars follow PyTorch's
// wrapped-number promotion (float tensor + 2.5 stays float; an integer scalar keeps an integer tensor integral), and
// each form dispatches to the overload Python uses, so values and grad_fn names match PyTorch's (x * 2 → MulBackward0,
// 2 - x → RsubBackward1, 2 / x = reciprocal(x) * 2, x ** 2 → PowBackward0).
MN_API const char* mn_binary_scalar(int op, Handle a, double s, int64_t si, int is_integer, int reverse, Handle* out) {
  MN_TRY
  at::Scalar sc = is_integer ? at::Scalar(si) : at::Scalar(s);
  const at::Tensor& x = *a;
  // A CPU wrapped number, as ATen makes for a Python scalar (the static fast path: no dispatch, ~1 µs cheaper).
  auto wrapped = [&] { return at::native::wrapped_scalar_tensor(sc); };
  at::Tensor r;
  if (reverse) {
    switch (op) {
      case 1: r = at::rsub(x, sc); break;
      case 3: r = at::mul(at::reciprocal(x), wrapped()); break;
      case 4: r = at::pow(sc, x); break;
      case 16: r = at::remainder(sc, x); break;
      default: r = binary(op, wrapped(), x); break;
    }
  } else {
    switch (op) {
      case 4: r = at::pow(x, sc); break;
      case 7: r = at::eq(x, sc); break;
      case 8: r = at::ne(x, sc); break;
      case 9: r = at::lt(x, sc); break;
      case 10: r = at::le(x, sc); break;
      case 11: r = at::gt(x, sc); break;
      case 12: r = at::ge(x, sc); break;
      default: r = binary(op, x, wrapped()); break;
    }
  }
  *out = mn::box(std::move(r));
  MN_END
}

// In place: op 0 add_(b, alpha), 1 sub_(b, alpha), 2 mul_, 3 div_, 4 copy_, 5 maximum (via clamp_min_ tensor)
MN_API const char* mn_inplace(int op, Handle a, Handle b, double alpha) {
  MN_TRY
  switch (op) {
    case 0: a->add_(*b, alpha); break;
    case 1: a->sub_(*b, alpha); break;
    case 2: a->mul_(*b); break;
    case 3: a->div_(*b); break;
    case 4: a->copy_(*b); break;
    default: TORCH_CHECK(false, "unknown in-place op ", op);
  }
  MN_END
}

// In place with a scalar: 0 add_, 1 sub_, 2 mul_, 3 div_, 4 fill_, 5 zero_, 6 pow_, 7 clamp_min_, 8 clamp_max_,
// 9 relu_, 10 sqrt_, 11 neg_, 12 exp_
MN_API const char* mn_inplace_scalar(int op, Handle a, double s) {
  MN_TRY
  switch (op) {
    case 0: a->add_(s); break;
    case 1: a->sub_(s); break;
    case 2: a->mul_(s); break;
    case 3: a->div_(s); break;
    case 4: a->fill_(s); break;
    case 5: a->zero_(); break;
    case 6: a->pow_(s); break;
    case 7: a->clamp_min_(s); break;
    case 8: a->clamp_max_(s); break;
    case 9: a->relu_(); break;
    case 10: a->sqrt_(); break;
    case 11: a->neg_(); break;
    case 12: a->exp_(); break;
    case 13: a->erfinv_(); break;
    default: TORCH_CHECK(false, "unknown in-place scalar op ", op);
  }
  MN_END
}

// op 0 addcmul_, 1 addcdiv_: a += value * (t1 op t2)
MN_API const char* mn_addc_(int op, Handle a, Handle t1, Handle t2, double value) {
  MN_TRY
  if (op == 0) a->addcmul_(*t1, *t2, value); else a->addcdiv_(*t1, *t2, value);
  MN_END
}

MN_API const char* mn_clamp(Handle a, int has_min, double min, int has_max, double max, int inplace, Handle* out) {
  MN_TRY
  c10::optional<at::Scalar> lo = has_min ? c10::optional<at::Scalar>(min) : c10::nullopt;
  c10::optional<at::Scalar> hi = has_max ? c10::optional<at::Scalar>(max) : c10::nullopt;
  if (inplace) a->clamp_(lo, hi); else *out = mn::box(at::clamp(*a, lo, hi));
  MN_END
}

MN_API const char* mn_where(Handle cond, Handle a, Handle b, Handle* out) { MN_TRY *out = mn::box(at::where(*cond, *a, *b)); MN_END }

// Reductions over `dims` (ndims < 0: over all elements). op: 0 sum, 1 mean, 2 std, 3 var, 4 logsumexp,
// 5 amax, 6 amin, 7 norm(p = arg), 8 prod (one dim or all), 9 all, 10 any.
// For std/var, arg is the correction (1 = unbiased, as PyTorch's default).
MN_API const char* mn_reduce(int op, Handle a, const int64_t* dims, int ndims, int keepdim, double arg, Handle* out) {
  MN_TRY
  const at::Tensor& x = *a;
  bool all = ndims < 0;
  std::vector<int64_t> all_dims;
  if (all) for (int64_t i = 0; i < x.dim(); ++i) all_dims.push_back(i);
  at::IntArrayRef d = all ? at::IntArrayRef(all_dims) : mn::ints(dims, ndims);
  bool k = keepdim != 0;
  at::Tensor r;
  switch (op) {
    case 0: r = all && !k ? at::sum(x) : at::sum(x, d, k); break;
    case 1: r = all && !k ? at::mean(x) : at::mean(x, d, k); break;
    case 2: r = at::std(x, at::OptionalIntArrayRef(d), static_cast<int64_t>(arg), k); break;
    case 3: r = at::var(x, at::OptionalIntArrayRef(d), static_cast<int64_t>(arg), k); break;
    case 4: r = at::logsumexp(x, d, k); break;
    case 5: r = at::amax(x, d, k); break;
    case 6: r = at::amin(x, d, k); break;
    case 7: r = at::norm(x, at::Scalar(arg), d, k); break;
    case 8:
      if (all) { r = at::prod(x); if (k) r = r.reshape(std::vector<int64_t>(x.dim(), 1)); }
      else { TORCH_CHECK(ndims == 1, "prod reduces one dim at a time"); r = at::prod(x, d[0], k); }
      break;
    case 9:
    case 10:
      if (all) { r = op == 9 ? at::all(x) : at::any(x); if (k) r = r.reshape(std::vector<int64_t>(x.dim(), 1)); }
      else { TORCH_CHECK(ndims == 1, "all/any reduce one dim at a time"); r = op == 9 ? at::all(x, d[0], k) : at::any(x, d[0], k); }
      break;
    default: TORCH_CHECK(false, "unknown reduction ", op);
  }
  *out = mn::box(std::move(r));
  MN_END
}

// op 0 max, 1 min along dim → values and indices; op 2 argmax, 3 argmin (has_dim 0: over all).
MN_API const char* mn_reduce_index(int op, Handle a, int has_dim, int64_t dim, int keepdim, Handle* values, Handle* indices) {
  MN_TRY
  bool k = keepdim != 0;
  if (op <= 1) {
    auto r = op == 0 ? at::max(*a, dim, k) : at::min(*a, dim, k);
    *values = mn::box(std::get<0>(r));
    *indices = mn::box(std::get<1>(r));
  } else {
    c10::optional<int64_t> d = has_dim ? c10::optional<int64_t>(dim) : c10::nullopt;
    *indices = mn::box(op == 2 ? at::argmax(*a, d, k) : at::argmin(*a, d, k));
  }
  MN_END
}

MN_API const char* mn_max_all(int op, Handle a, Handle* out) { MN_TRY *out = mn::box(op == 0 ? at::max(*a) : at::min(*a)); MN_END }

MN_API const char* mn_topk(Handle a, int64_t k, int64_t dim, int largest, int sorted, Handle* values, Handle* indices) {
  MN_TRY
  auto r = at::topk(*a, k, dim, largest != 0, sorted != 0);
  *values = mn::box(std::get<0>(r));
  *indices = mn::box(std::get<1>(r));
  MN_END
}

MN_API const char* mn_sort(Handle a, int64_t dim, int descending, Handle* values, Handle* indices) {
  MN_TRY
  auto r = at::sort(*a, dim, descending != 0);
  *values = mn::box(std::get<0>(r));
  *indices = mn::box(std::get<1>(r));
  MN_END
}

MN_API const char* mn_cumsum(Handle a, int64_t dim, Handle* out) { MN_TRY *out = mn::box(at::cumsum(*a, dim)); MN_END }

MN_API const char* mn_einsum(const char* equation, const Handle* operands, int n, Handle* out) {
  MN_TRY
  std::vector<at::Tensor> ts;
  for (int i = 0; i < n; ++i) ts.push_back(*operands[i]);
  *out = mn::box(at::einsum(equation, ts));
  MN_END
}

MN_API const char* mn_allclose(Handle a, Handle b, double rtol, double atol, int* out) {
  MN_TRY *out = at::allclose(*a, *b, rtol, atol) ? 1 : 0; MN_END
}
MN_API const char* mn_equal(Handle a, Handle b, int* out) { MN_TRY *out = at::equal(*a, *b) ? 1 : 0; MN_END }

MN_API const char* mn_to(Handle a, int dtype, int dev_type, int dev_index, int copy, Handle* out) {
  MN_TRY
  at::Tensor t = *a;
  auto dt = dtype >= 0 ? mn::dtype(dtype) : t.scalar_type();
  auto dev = dev_type >= 0 ? mn::device(dev_type, dev_index) : t.device();
  *out = mn::box(t.to(dev, dt, false, copy != 0));
  MN_END
}

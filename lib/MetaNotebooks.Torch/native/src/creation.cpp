// Factories, random numbers and generators.
#include "common.h"
#include <ATen/CPUGeneratorImpl.h>

// kind: 0 empty, 1 zeros, 2 ones, 3 full(value)
MN_API const char* mn_new(int kind, const int64_t* shape, int ndim, double value, int dtype, int dev_type, int dev_index,
                          int requires_grad, Handle* out) {
  MN_TRY
  auto o = mn::options(dtype, dev_type, dev_index);
  auto s = mn::ints(shape, ndim);
  at::Tensor t;
  switch (kind) {
    case 0: t = at::empty(s, o); break;
    case 1: t = at::zeros(s, o); break;
    case 2: t = at::ones(s, o); break;
    case 3: t = at::full(s, value, o); break;
    default: TORCH_CHECK(false, "unknown factory kind ", kind);
  }
  if (requires_grad) t.set_requires_grad(true);
  *out = mn::box(std::move(t));
  MN_END
}

// The *_like factories: same shape; dtype -1 keeps the source's dtype.
MN_API const char* mn_new_like(int kind, Handle src, double value, int dtype, int requires_grad, Handle* out) {
  MN_TRY
  auto o = src->options().requires_grad(false);
  if (dtype >= 0) o = o.dtype(mn::dtype(dtype));
  at::Tensor t;
  switch (kind) {
    case 0: t = at::empty_like(*src, o); break;
    case 1: t = at::zeros_like(*src, o); break;
    case 2: t = at::ones_like(*src, o); break;
    case 3: t = at::full_like(*src, value, o); break;
    case 4: t = at::rand_like(*src, o); break;
    case 5: t = at::randn_like(*src, o); break;
    default: TORCH_CHECK(false, "unknown factory kind ", kind);
  }
  if (requires_grad) t.set_requires_grad(true);
  *out = mn::box(std::move(t));
  MN_END
}

// kind: 0 arange(start, end, step), 1 linspace(start, end, steps=(int)step)
MN_API const char* mn_range(int kind, double start, double end, double step, int dtype, int dev_type, int dev_index, Handle* out) {
  MN_TRY
  auto o = mn::options(dtype, dev_type, dev_index);
  if (kind == 0) *out = mn::box(at::arange(start, end, step, o));
  else *out = mn::box(at::linspace(start, end, static_cast<int64_t>(step), o));
  MN_END
}

MN_API const char* mn_eye(int64_t n, int64_t m, int dtype, int dev_type, int dev_index, Handle* out) {
  MN_TRY *out = mn::box(at::eye(n, m, mn::options(dtype, dev_type, dev_index))); MN_END
}

// kind: 0 rand, 1 randn
MN_API const char* mn_random(int kind, const int64_t* shape, int ndim, GenHandle g, int dtype, int dev_type, int dev_index,
                             int requires_grad, Handle* out) {
  MN_TRY
  auto o = mn::options(dtype, dev_type, dev_index);
  at::Tensor t = kind == 0 ? at::rand(mn::ints(shape, ndim), mn::gen(g), o) : at::randn(mn::ints(shape, ndim), mn::gen(g), o);
  if (requires_grad) t.set_requires_grad(true);
  *out = mn::box(std::move(t));
  MN_END
}

MN_API const char* mn_randint(int64_t low, int64_t high, const int64_t* shape, int ndim, GenHandle g, int dtype, int dev_type,
                              int dev_index, Handle* out) {
  MN_TRY *out = mn::box(at::randint(low, high, mn::ints(shape, ndim), mn::gen(g), mn::options(dtype, dev_type, dev_index))); MN_END
}

MN_API const char* mn_randperm(int64_t n, GenHandle g, int dtype, int dev_type, int dev_index, Handle* out) {
  MN_TRY *out = mn::box(at::randperm(n, mn::gen(g), mn::options(dtype, dev_type, dev_index))); MN_END
}

// In place: kind 0 normal_(a=mean, b=std), 1 uniform_(a=from, b=to), 2 bernoulli_(a=p)
MN_API const char* mn_random_(int kind, Handle t, double a, double b, GenHandle g) {
  MN_TRY
  at::NoGradGuard no_grad;
  switch (kind) {
    case 0: t->normal_(a, b, mn::gen(g)); break;
    case 1: t->uniform_(a, b, mn::gen(g)); break;
    case 2: t->bernoulli_(a, mn::gen(g)); break;
    default: TORCH_CHECK(false, "unknown random kind ", kind);
  }
  MN_END
}

MN_API const char* mn_multinomial(Handle probs, int64_t n, int replacement, GenHandle g, Handle* out) {
  MN_TRY *out = mn::box(at::multinomial(*probs, n, replacement != 0, mn::gen(g))); MN_END
}

// Seeds the default CPU generator and, where libtorch has CUDA and GPUs, each GPU's (as torch.manual_seed).
MN_API const char* mn_manual_seed(uint64_t seed) {
  MN_TRY
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
  }
  if (at::hasCUDA()) {
    const auto gpus = at::detail::getCUDAHooks().getNumGPUs();
    for (int64_t i = 0; i < gpus; ++i) {
      auto gen = at::detail::getCUDAHooks().getDefaultCUDAGenerator(static_cast<c10::DeviceIndex>(i));
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
  }
  MN_END
}

MN_API const char* mn_generator_new(uint64_t seed, GenHandle* out) {
  MN_TRY *out = new at::Generator(at::make_generator<at::CPUGeneratorImpl>(seed)); MN_END
}
MN_API void mn_generator_free(GenHandle g) { delete g; }
MN_API const char* mn_generator_seed(GenHandle g, uint64_t seed) {
  MN_TRY
  std::lock_guard<std::mutex> lock(g->mutex());
  g->set_current_seed(seed);
  MN_END
}

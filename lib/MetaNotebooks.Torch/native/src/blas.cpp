// Fused multiply-adds: one autograd node instead of two or three (what inner loops are made of).
#include "common.h"

// op: 0 add(a, b, alpha) = a + alpha·b, 1 baddbmm(a, b, c, beta, alpha) = beta·a + alpha·(b @ c) batched,
// 2 addmm(a, b, c, beta, alpha), 3 addcmul(a, b, c, value = alpha), 4 lerp(a, b, weight = alpha)
MN_API const char* mn_fused(int op, Handle a, Handle b, Handle c, double beta, double alpha, Handle* out) {
  MN_TRY
  at::Tensor r;
  switch (op) {
    case 0: r = at::add(*a, *b, alpha); break;
    case 1: r = at::baddbmm(*a, *b, *c, beta, alpha); break;
    case 2: r = at::addmm(*a, *b, *c, beta, alpha); break;
    case 3: r = at::addcmul(*a, *b, *c, alpha); break;
    case 4: r = at::lerp(*a, *b, alpha); break;
    default: TORCH_CHECK(false, "unknown fused op ", op);
  }
  *out = mn::box(std::move(r));
  MN_END
}

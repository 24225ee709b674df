// Views, reshaping, joining, splitting and indexing.
#include "common.h"

// op: 0 reshape, 1 view, 2 permute, 3 expand, 4 repeat, 5 flip(dims)
MN_API const char* mn_shape_op(int op, Handle a, const int64_t* v, int n, Handle* out) {
  MN_TRY
  auto s = mn::ints(v, n);
  at::Tensor r;
  switch (op) {
    case 0: r = a->reshape(s); break;
    case 1: r = a->view(s); break;
    case 2: r = a->permute(s); break;
    case 3: r = a->expand(s); break;
    case 4: r = a->repeat(s); break;
    case 5: r = at::flip(*a, s); break;
    default: TORCH_CHECK(false, "unknown shape op ", op);
  }
  *out = mn::box(std::move(r));
  MN_END
}

// op: 0 transpose(d0, d1), 1 squeeze(d0) (d0 = INT64_MIN: all), 2 unsqueeze(d0), 3 flatten(d0, d1),
// 4 select(d0, index d1), 5 rot90(k = d0, dims (d1 >> 8, d1 & 255)), 6 diagonal(offset d0)
MN_API const char* mn_dims_op(int op, Handle a, int64_t d0, int64_t d1, Handle* out) {
  MN_TRY
  at::Tensor r;
  switch (op) {
    case 0: r = a->transpose(d0, d1); break;
    case 1: r = d0 == INT64_MIN ? a->squeeze() : a->squeeze(d0); break;
    case 2: r = a->unsqueeze(d0); break;
    case 3: r = a->flatten(d0, d1); break;
    case 4: r = a->select(d0, d1); break;
    case 5: r = at::rot90(*a, d0, {d1 >> 8, d1 & 255}); break;
    case 6: r = at::diagonal(*a, d0); break;
    default: TORCH_CHECK(false, "unknown dims op ", op);
  }
  *out = mn::box(std::move(r));
  MN_END
}

// Python-style slice a[..., start:end:step, ...] along dim; has_start/has_end 0 means open.
MN_API const char* mn_slice(Handle a, int64_t dim, int has_start, int64_t start, int has_end, int64_t end, int64_t step, Handle* out) {
  MN_TRY
  c10::optional<int64_t> s = has_start ? c10::optional<int64_t>(start) : c10::nullopt;
  c10::optional<int64_t> e = has_end ? c10::optional<int64_t>(end) : c10::nullopt;
  *out = mn::box(at::slice(*a, dim, s, e, step));
  MN_END
}

MN_API const char* mn_narrow(Handle a, int64_t dim, int64_t start, int64_t length, Handle* out) {
  MN_TRY *out = mn::box(a->narrow(dim, start, length)); MN_END
}

// op: 0 cat, 1 stack
MN_API const char* mn_join(int op, const Handle* ts, int n, int64_t dim, Handle* out) {
  MN_TRY
  std::vector<at::Tensor> v;
  v.reserve(n);
  for (int i = 0; i < n; ++i) v.push_back(*ts[i]);
  *out = mn::box(op == 0 ? at::cat(v, dim) : at::stack(v, dim));
  MN_END
}

// op: 0 split(size = sizes[0]), 1 split_with_sizes(sizes), 2 chunk(chunks = sizes[0]), 3 unbind.
// Writes up to `capacity` handles into outs and their number into count.
MN_API const char* mn_split(int op, Handle a, const int64_t* sizes, int nsizes, int64_t dim, Handle* outs, int capacity, int* count) {
  MN_TRY
  std::vector<at::Tensor> parts;
  switch (op) {
    case 0: parts = a->split(sizes[0], dim); break;
    case 1: parts = a->split_with_sizes(mn::ints(sizes, nsizes), dim); break;
    case 2: parts = a->chunk(sizes[0], dim); break;
    case 3: parts = a->unbind(dim); break;
    default: TORCH_CHECK(false, "unknown split op ", op);
  }
  TORCH_CHECK(static_cast<int>(parts.size()) <= capacity, "split: more parts than expected");
  for (size_t i = 0; i < parts.size(); ++i) outs[i] = mn::box(parts[i]);
  *count = static_cast<int>(parts.size());
  MN_END
}

// op: 0 index_select(dim, index), 1 gather(dim, index), 2 scatter(dim, index, src), 3 scatter_add(dim, index, src),
// 4 index (a[index] along dim 0 with a long or bool tensor), 5 masked_select(mask), 6 take_along_dim(index, dim)
MN_API const char* mn_index_op(int op, Handle a, int64_t dim, Handle index, Handle src, Handle* out) {
  MN_TRY
  at::Tensor r;
  switch (op) {
    case 0: r = at::index_select(*a, dim, *index); break;
    case 1: r = at::gather(*a, dim, *index); break;
    case 2: r = at::scatter(*a, dim, *index, *src); break;
    case 3: r = at::scatter_add(*a, dim, *index, *src); break;
    case 4: {
      c10::List<c10::optional<at::Tensor>> idx;
      dim = c10::maybe_wrap_dim(dim, a->dim());
      for (int64_t i = 0; i < dim; ++i) idx.push_back(c10::nullopt);
      idx.push_back(*index);
      r = at::index(*a, idx);
      break;
    }
    case 5: r = at::masked_select(*a, *index); break;
    case 6: r = at::take_along_dim(*a, *index, dim); break;
    default: TORCH_CHECK(false, "unknown index op ", op);
  }
  *out = mn::box(std::move(r));
  MN_END
}

// a[.., index, ..] = value along dim (index_put_ with a long or bool index), in place.
MN_API const char* mn_index_put_(Handle a, int64_t dim, Handle index, Handle value) {
  MN_TRY
  c10::List<c10::optional<at::Tensor>> idx;
  dim = c10::maybe_wrap_dim(dim, a->dim());
  for (int64_t i = 0; i < dim; ++i) idx.push_back(c10::nullopt);
  idx.push_back(*index);
  a->index_put_(idx, *value);
  MN_END
}

// Advanced indexing a[i0, i1, …] with one entry per indexed position: a long or bool tensor, or nullptr for
// a whole dim (":"). A bool mask covers as many dims as it has. All tensor indices are applied together,
// broadcast against each other, as PyTorch's a[idx0, idx1].
static c10::List<c10::optional<at::Tensor>> index_list(const Handle* idx, int n) {
  c10::List<c10::optional<at::Tensor>> list;
  list.reserve(n);
  for (int i = 0; i < n; ++i) list.push_back(idx[i] ? c10::optional<at::Tensor>(*idx[i]) : c10::nullopt);
  return list;
}

MN_API const char* mn_index(Handle a, const Handle* idx, int n, Handle* out) {
  MN_TRY *out = mn::box(at::index(*a, index_list(idx, n))); MN_END
}

// a[i0, i1, …] = value in place (accumulate: +=); value is broadcast and converted to a's dtype.
MN_API const char* mn_index_put(Handle a, const Handle* idx, int n, Handle value, int accumulate) {
  MN_TRY
  at::Tensor v = value->scalar_type() == a->scalar_type() ? *value : value->to(a->scalar_type());
  a->index_put_(index_list(idx, n), v, accumulate != 0);
  MN_END
}

MN_API const char* mn_masked_fill(Handle a, Handle mask, double value, int inplace, Handle* out) {
  MN_TRY
  if (inplace) a->masked_fill_(*mask, value); else *out = mn::box(at::masked_fill(*a, *mask, value));
  MN_END
}

MN_API const char* mn_tri(int upper, Handle a, int64_t diagonal, Handle* out) {
  MN_TRY *out = mn::box(upper ? at::triu(*a, diagonal) : at::tril(*a, diagonal)); MN_END
}

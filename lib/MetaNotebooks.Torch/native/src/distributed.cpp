// Process groups: libtorch's own c10d (Gloo transport, TCPStore rendezvous), as torch.distributed uses them.
// A group is created by every rank with the same master address, port and world size; rank 0 hosts the store.
// Every collective waits at most the group's timeout, so a dead peer becomes an error, never a hang.
#include "common.h"
#include <chrono>
#ifdef MN_HAVE_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

namespace {
struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  std::chrono::milliseconds timeout;
};
using GroupHandle = Group*;

c10d::ReduceOp reduce_op(int code) {
  switch (code) {
    case 0: return c10d::ReduceOp::SUM;
    case 1: return c10d::ReduceOp::PRODUCT;
    case 2: return c10d::ReduceOp::MIN;
    case 3: return c10d::ReduceOp::MAX;
    default: throw std::invalid_argument("unknown reduce op code " + std::to_string(code));
  }
}

// Collectives work on contiguous dense CPU tensors; anything else is refused with the reason, before Gloo sees it.
void check_tensor(const at::Tensor& t, const char* what) {
  if (!t.defined()) throw std::invalid_argument(std::string(what) + ": the tensor is undefined");
  if (!t.is_contiguous()) throw std::invalid_argument(std::string(what) + ": the tensor must be contiguous (call .contiguous() first)");
  if (t.requires_grad() && t.is_leaf() == false)
    throw std::invalid_argument(std::string(what) + ": the tensor is part of an autograd graph; pass a detached tensor (e.g. a gradient)");
}

void wait(Group* g, c10::intrusive_ptr<c10d::Work> work) {
  if (!work->wait(g->timeout)) throw std::runtime_error("the collective did not complete");
}
}  // namespace

// rank 0 listens on `port` (0: any free port; read it back with mn_pg_port) and the others connect to host:port.
MN_API const char* mn_pg_new(const char* host, int port, int rank, int world_size, int64_t timeout_ms, const char* prefix,
                             void** out) {
  MN_TRY
  if (world_size < 1) throw std::invalid_argument("world size must be at least 1, got " + std::to_string(world_size));
  if (rank < 0 || rank >= world_size)
    throw std::invalid_argument("rank " + std::to_string(rank) + " is outside 0.." + std::to_string(world_size - 1));
  if (port < 0 || port > 65535) throw std::invalid_argument("port " + std::to_string(port) + " is outside 0..65535");
  if (timeout_ms <= 0) throw std::invalid_argument("the timeout must be positive");
  auto timeout = std::chrono::milliseconds(timeout_ms);
  c10d::TCPStoreOptions opts;
  opts.port = static_cast<std::uint16_t>(port);
  opts.isServer = rank == 0;
  opts.numWorkers = world_size;
  opts.waitWorkers = true;
  opts.timeout = timeout;
  auto tcp = c10::make_intrusive<c10d::TCPStore>(std::string(host), opts);
  // A prefix per group, so that several groups (or a restarted one) can share one store without stale keys.
  auto store = c10::make_intrusive<c10d::PrefixStore>(std::string(prefix ? prefix : "mn"), tcp);
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(std::string(host)));
  options->threads = 1;
  auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world_size, options);
  *out = new Group{tcp, pg, timeout};
  MN_END
}

// The port the store listens on (rank 0) or connects to.
MN_API const char* mn_pg_store_port(void* group, int* port) {
  MN_TRY
  auto g = static_cast<GroupHandle>(group);
  *port = static_cast<c10d::TCPStore*>(g->store.get())->getPort();
  MN_END
}

MN_API void mn_pg_free(void* group) { delete static_cast<GroupHandle>(group); }

MN_API const char* mn_pg_all_reduce(void* group, Handle t, int op) {
  MN_TRY
  auto g = static_cast<GroupHandle>(group);
  check_tensor(*t, "all_reduce");
  std::vector<at::Tensor> ts{*t};
  c10d::AllreduceOptions o;
  o.reduceOp = reduce_op(op);
  o.timeout = g->timeout;
  at::NoGradGuard no_grad;
  wait(g, g->pg->allreduce(ts, o));
  MN_END
}

MN_API const char* mn_pg_broadcast(void* group, Handle t, int root) {
  MN_TRY
  auto g = static_cast<GroupHandle>(group);
  check_tensor(*t, "broadcast");
  if (root < 0 || root >= g->pg->getSize())
    throw std::invalid_argument("broadcast: root " + std::to_string(root) + " is outside 0.." + std::to_string(g->pg->getSize() - 1));
  std::vector<at::Tensor> ts{*t};
  c10d::BroadcastOptions o;
  o.rootRank = root;
  o.timeout = g->timeout;
  at::NoGradGuard no_grad;
  wait(g, g->pg->broadcast(ts, o));
  MN_END
}

// Gathers every rank's `t` (same shape everywhere) into a new tensor of shape [world, *t.shape].
MN_API const char* mn_pg_all_gather(void* group, Handle t, Handle* out) {
  MN_TRY
  auto g = static_cast<GroupHandle>(group);
  check_tensor(*t, "all_gather");
  int n = g->pg->getSize();
  std::vector<int64_t> shape{n};
  for (auto s : t->sizes()) shape.push_back(s);
  auto result = at::empty(shape, t->options().requires_grad(false));
  std::vector<std::vector<at::Tensor>> outs(1);
  for (int r = 0; r < n; ++r) outs[0].push_back(result[r]);
  std::vector<at::Tensor> ins{*t};
  c10d::AllgatherOptions o;
  o.timeout = g->timeout;
  at::NoGradGuard no_grad;
  wait(g, g->pg->allgather(outs, ins, o));
  *out = mn::box(result);
  MN_END
}

MN_API const char* mn_pg_barrier(void* group) {
  MN_TRY
  auto g = static_cast<GroupHandle>(group);
  c10d::BarrierOptions o;
  o.timeout = g->timeout;
  wait(g, g->pg->barrier(o));
  MN_END
}
#else
namespace {
const char* no_gloo() {
  return mn::fail("process groups are unavailable: the native layer was built without Gloo's headers "
                  "(apt-get install libgloo-dev, then ./mn build)");
}
}  // namespace
MN_API const char* mn_pg_new(const char*, int, int, int, int64_t, const char*, void**) { return no_gloo(); }
MN_API const char* mn_pg_store_port(void*, int*) { return no_gloo(); }
MN_API void mn_pg_free(void*) {}
MN_API const char* mn_pg_all_reduce(void*, Handle, int) { return no_gloo(); }
MN_API const char* mn_pg_broadcast(void*, Handle, int) { return no_gloo(); }
MN_API const char* mn_pg_all_gather(void*, Handle, Handle*) { return no_gloo(); }
MN_API const char* mn_pg_barrier(void*) { return no_gloo(); }
#endif

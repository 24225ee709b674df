// Counts the bytes libtorch's CPU allocator holds, so that the C# side can run the garbage collector when tensors
// dropped without Dispose (no dispose scope) hold a lot of storage: a tensor object is ~50 managed bytes, so such code
// makes almost no managed garbage, the GC seldom runs, and the finalizers that would free the storage seldom run.
// The count is taken at the allocator rather than per tensor handle: views share their storage (counted once), what
// an autograd graph holds is counted, and C# reads the count through a pointer, with no extra call across the ABI.
#include "common.h"
#include <atomic>
#include <c10/core/CPUAllocator.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {
std::atomic<int64_t> cpu_bytes{0};

#if defined(__GLIBC__)
// Wraps the CPU allocator found at load time (libtorch's default, which allocates with posix_memalign): every block
// it hands out gets a deleter that subtracts the block's size before calling the original deleter. The size is
// malloc_usable_size's, read both at allocation and at release, so the two always match without storing anything.
struct CountingCpuAllocator final : c10::Allocator {
  static c10::Allocator* base;
  static c10::DeleterFnPtr base_deleter;

  static void release(void* ctx) {
    cpu_bytes.fetch_sub(static_cast<int64_t>(malloc_usable_size(ctx)), std::memory_order_relaxed);
    base_deleter(ctx);
  }

  c10::DataPtr allocate(size_t n) const override {
    c10::DataPtr block = base->allocate(n);
    // A base with a raw deleter hands out blocks whose context is the malloc'd pointer and whose deleter is that one;
    // the empty block (n = 0) keeps its own deleter and is not counted.
    if (block.get_context() && block.compare_exchange_deleter(base_deleter, &release))
      cpu_bytes.fetch_add(static_cast<int64_t>(malloc_usable_size(block.get_context())), std::memory_order_relaxed);
    return block;
  }

  // raw_allocate/raw_deallocate stay usable: release frees what base's raw deleter frees (and malloc_usable_size(0)
  // is 0 for the empty block).
  c10::DeleterFnPtr raw_deleter() const override { return &release; }
};
c10::Allocator* CountingCpuAllocator::base = nullptr;
c10::DeleterFnPtr CountingCpuAllocator::base_deleter = nullptr;

struct InstallCountingAllocator {
  InstallCountingAllocator() {
    c10::Allocator* current = c10::GetCPUAllocator();
    // Counting needs the raw interface (context = the malloc'd block, one known deleter); otherwise leave it alone.
    if (!current || !current->raw_deleter()) return;
    CountingCpuAllocator::base = current;
    CountingCpuAllocator::base_deleter = current->raw_deleter();
    static CountingCpuAllocator counting;
    c10::SetCPUAllocator(&counting, /*priority=*/1);
  }
} install_counting_allocator;
#endif
}  // namespace

// The address of the count of bytes libtorch's CPU allocator holds now (it stays 0 where the allocator could not be
// wrapped); the C# side reads it whenever it wraps a tensor.
MN_API const int64_t* mn_cpu_allocated_bytes() {
  static_assert(sizeof(std::atomic<int64_t>) == sizeof(int64_t) && std::atomic<int64_t>::is_always_lock_free);
  return reinterpret_cast<const int64_t*>(&cpu_bytes);
}

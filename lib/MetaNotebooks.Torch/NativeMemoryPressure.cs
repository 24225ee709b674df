using System.Runtime.CompilerServices;

namespace MetaNotebooks.Torch;

/// <summary>
/// Runs the garbage collector when tensors outside every dispose scope, or libtorch's CPU memory, have grown well past
/// what was left after the last collection, so that tensors dropped without <see cref="Tensor.Dispose"/> have their
/// finalizers run. The GC sees ~50 managed bytes per tensor; left to itself it collected every ~4,500 steps of a small
/// MLP trained without a scope, while the undisposed tensors, each holding its autograd nodes and small buffers
/// scattered through malloc's heap, pinned the freed blocks around them: the heap grew by 300 MB per 1,000 steps
/// although the tensors' own storage grew by 0.5 MB. Two counts drive it:
/// - tensors alive outside every scope (counted here, as they are made, leave their last scope, are disposed or are
///   finalized); tensors in a scope are freed by it, so scoped code never collects from here;
/// - bytes libtorch's CPU allocator holds (native/src/memory.cpp), for large tensors dropped undisposed.
/// </summary>
internal static unsafe class NativeMemoryPressure
{
    /// <summary>Growth allowed between collections: at least these, or half of what was left after the last one.</summary>
    internal const long MinimumUnscopedAllowance = 1_000, MinimumByteAllowance = 256L << 20;

    private static readonly long* cpuBytes = Native.mn_cpu_allocated_bytes();
    private static long unscoped;
    private static long collectAboveUnscoped = MinimumUnscopedAllowance, collectAboveBytes = MinimumByteAllowance;
    private static long unscopedAfterFullCollection;
    private static int collecting;

    /// <summary>Bytes libtorch's CPU allocator holds now (0 where the native layer could not count them).</summary>
    internal static long AllocatedBytes => Volatile.Read(ref *cpuBytes);

    /// <summary>Tensors alive outside every dispose scope (not disposed, not finalized).</summary>
    internal static long UnscopedTensors => Volatile.Read(ref unscoped);

    /// <summary>Called for every tensor the binding wraps, after it joined the current scope or none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void OnTensorCreated()
    {
        if (AllocatedBytes > Volatile.Read(ref collectAboveBytes)) Collect();
    }

    /// <summary>A tensor is now outside every scope: made without one, or moved or detached out of its last one.</summary>
    internal static void UnscopedAdded()
    {
        if (Interlocked.Increment(ref unscoped) > Volatile.Read(ref collectAboveUnscoped)) Collect();
    }

    /// <summary>A tensor outside every scope was disposed or finalized, or joined a scope.</summary>
    internal static void UnscopedRemoved() => Interlocked.Decrement(ref unscoped);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Collect()
    {
        if (Interlocked.Exchange(ref collecting, 1) == 1) return;   // another thread is collecting
        try
        {
            // Tensors dropped in a loop die young: a gen-1 collection finds them without marking the whole heap (a
            // notebook's holds the compiler). Waiting for the finalizers, which free the native tensors, makes the
            // counts after the collection the true baseline and keeps the loop from outrunning the finalizer thread.
            GC.Collect(1, GCCollectionMode.Forced, blocking: true);
            GC.WaitForPendingFinalizers();
            // Tensors that were alive at an earlier collection were promoted to gen 2 and need a full one: when the
            // young collection left much more than the last full one did.
            var left = UnscopedTensors;
            var allowance = Math.Max(MinimumUnscopedAllowance, unscopedAfterFullCollection / 2);
            if (left > unscopedAfterFullCollection + allowance / 2 || AllocatedBytes > Volatile.Read(ref collectAboveBytes))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                left = unscopedAfterFullCollection = UnscopedTensors;
            }
            var bytes = AllocatedBytes;
            Volatile.Write(ref collectAboveUnscoped, left + Math.Max(MinimumUnscopedAllowance, left / 2));
            Volatile.Write(ref collectAboveBytes, bytes + Math.Max(MinimumByteAllowance, bytes / 2));
        }
        finally
        {
            Volatile.Write(ref collecting, 0);
        }
    }
}

using System.Runtime.InteropServices;
using Xunit.Abstractions;

namespace MetaNotebooks.Torch.Tests;

[Collection(GlobalState.Name)]
public class MemoryTests(ITestOutputHelper output)
{
    /// <summary>Resident set size of this process in bytes (VmRSS of /proc/self/status).</summary>
    private static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:"))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc/self/status");
    }

    [Fact]
    public void TenThousandTrainingStepsKeepAFlatResidentSet()
    {
        using var gen = new Generator(1);
        using var model = new nn.Sequential(new nn.Linear(8, 32, generator: gen), new nn.ReLU(), new nn.Linear(32, 32, generator: gen), new nn.ReLU(),
                                            new nn.Linear(32, 1, generator: gen));
        using var opt = new optim.Adam(model.parameters(), lr: 1e-3);
        using var x = randn([16, 8], gen);
        using var y = x.sum(1, keepdim: true).sin();
        double first = 0, last = 0;
        void Step(int i)
        {
            using var scope = NewDisposeScope();
            var loss = nn.functional.mse_loss(model.forward(x), y);
            opt.zero_grad();
            loss.backward();
            opt.step();
            if (i == 0) first = loss.item<double>();
            last = loss.item<double>();
        }

        for (var i = 0; i < 1000; i++) Step(i); // warm-up: allocator pools, JIT, optimizer state
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = ResidentBytes();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 1000; i < 11000; i++) Step(i);
        var after = ResidentBytes();
        var growth = (after - before) / (1024.0 * 1024.0);
        output.WriteLine($"RSS after warm-up {before / 1048576.0:F1} MB, after 10,000 more steps {after / 1048576.0:F1} MB (growth {growth:F1} MB); " +
                         $"{sw.Elapsed.TotalMilliseconds / 10000 * 1000:F0} µs per step; loss {first:F4} → {last:F4}");
        Assert.True(growth < 50, $"resident set grew by {growth:F1} MB over 10,000 steps");
        Assert.True(last < first, "the model learns");
    }

    [Fact]
    public void TrainingWithoutAScopeKeepsTheResidentSetBounded()
    {
        // The same kind of loop written without a dispose scope: every step leaves its output and loss (and their
        // autograd nodes) to the finalizers. Left to the managed allocations alone, the GC ran every ~4,500 steps while
        // those small native objects, scattered between the freed 64-256 KB activation and gradient blocks, kept the
        // heap from reusing them: +300 MB per 1,000 steps. Told about the undisposed tensors, it collects in time.
        var threads = get_num_threads();
        set_num_threads(1);
        try
        {
            using var gen = new Generator(1);
            using var model = new nn.Sequential(new nn.Linear(8, 256, generator: gen), new nn.ReLU(), new nn.Linear(256, 256, generator: gen),
                                                new nn.ReLU(), new nn.Linear(256, 1, generator: gen));
            using var opt = new optim.Adam(model.parameters(), lr: 1e-3);
            using var x = randn([64, 8], gen);
            using var y = x.sum(1, keepdim: true).sin();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var before = ResidentBytes();
            var peak = before;
            var curve = new List<string>();
            for (var i = 1; i <= 3000; i++)
            {
                var loss = nn.functional.mse_loss(model.forward(x), y);
                opt.zero_grad();
                loss.backward();
                opt.step();
                if (i % 500 != 0) continue;
                var rss = ResidentBytes();
                peak = Math.Max(peak, rss);
                curve.Add($"{i}: {rss / 1048576.0:F0} MB");
            }
            var growth = (peak - before) / 1048576.0;
            output.WriteLine($"RSS before {before / 1048576.0:F0} MB; {string.Join(", ", curve)}; peak growth {growth:F0} MB");
            Assert.True(growth < 400, $"3,000 steps without a scope grew the resident set by {growth:F0} MB (without the GC being told about native tensors: ~900 MB)");
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    [Fact]
    public void LargeTensorsDroppedWithoutAScopeAreFreed()
    {
        // 400 × 4 MB made and dropped undisposed: 400 small managed objects never start a collection by themselves, so
        // without counting native bytes this would hold 1.6 GB until something else ran the GC.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = ResidentBytes();
        var peak = before;
        for (var i = 0; i < 400; i++)
        {
            _ = ones(1024, 1024).sum();
            if (i % 20 == 0) peak = Math.Max(peak, ResidentBytes());
        }
        var growth = (peak - before) / 1048576.0;
        output.WriteLine($"peak growth {growth:F0} MB");
        Assert.True(growth < 600, $"400 undisposed 4 MB tensors grew the resident set by {growth:F0} MB");
    }

    [Fact]
    public void ScopesReleaseNativeMemory()
    {
        // 200 × 4 MB made and dropped inside scopes: without the scopes' disposal this would hold 800 MB.
        var before = ResidentBytes();
        for (var i = 0; i < 200; i++)
        {
            using var scope = NewDisposeScope();
            var big = ones(1024, 1024); // 4 MB
            _ = (big * 2).sum();
        }
        var growth = (ResidentBytes() - before) / (1024.0 * 1024.0);
        output.WriteLine($"growth {growth:F1} MB");
        Assert.True(growth < 100, $"resident set grew by {growth:F1} MB");
    }

    [Fact]
    public void KeepingFreedMemoryServesLargeBlocksWithoutMmap()
    {
        // glibc serves blocks above its mmap threshold (≤ 32 MB) with their own mmap, returned to the kernel on free, so
        // their pages are faulted in afresh every time; set_keep_freed_memory(true) takes them from the heap instead.
        // hblkhd of mallinfo2 counts the bytes currently in such mmapped blocks.
        static long Mmapped() => (long)MallInfo2().hblkhd;
        static long MmappedWhileHolding(long bytes)
        {
            var before = Mmapped();
            using var block = ones(bytes / sizeof(float));
            return Mmapped() - before;
        }
        // By default a block is still taken from the heap when a free chunk there is large enough (other tests may have
        // left hundreds of MB free), so the first one is made larger than all the free bytes of the heap.
        var blockBytes = Math.Max(40L << 20, (long)MallInfo2().fordblks + (8L << 20));
        try
        {
            Assert.True(set_keep_freed_memory(false));
            Assert.False(keeps_freed_memory);
            Assert.True(MmappedWhileHolding(blockBytes) >= blockBytes, $"by default a {blockBytes >> 20} MB block is its own mmap");
            Assert.True(set_keep_freed_memory(true));
            Assert.True(keeps_freed_memory);
            Assert.Equal(0, MmappedWhileHolding(40L << 20));
            Assert.Equal(0, MmappedWhileHolding(40L << 20));
        }
        finally
        {
            set_keep_freed_memory(false);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo MallInfo2();
}

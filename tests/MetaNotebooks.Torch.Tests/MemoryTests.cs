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
        static long MmappedWhileHolding40Mb()
        {
            var before = Mmapped();
            using var block = ones(10 * 1024 * 1024);   // 40 MB
            return Mmapped() - before;
        }
        try
        {
            Assert.True(set_keep_freed_memory(false));
            Assert.False(keeps_freed_memory);
            Assert.True(MmappedWhileHolding40Mb() >= 40L << 20, "by default a 40 MB block is its own mmap");
            Assert.True(set_keep_freed_memory(true));
            Assert.True(keeps_freed_memory);
            Assert.Equal(0, MmappedWhileHolding40Mb());
            Assert.Equal(0, MmappedWhileHolding40Mb());
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

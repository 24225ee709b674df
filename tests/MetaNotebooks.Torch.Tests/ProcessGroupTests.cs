using System.Diagnostics;

namespace MetaNotebooks.Torch.Tests;

/// <summary>
/// c10d process groups over loopback, each rank on its own thread of this process (c10d allows several groups in one
/// process, as its own tests do). Every wait is bounded by a short timeout, so a broken collective fails the test, never hangs it.
/// </summary>
public class ProcessGroupTests
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(20);


    /// <summary>Runs `body` on `world` ranks at once, each with its own group, and returns what each rank returned.</summary>
    private static T[] OnRanks<T>(int world, Func<ProcessGroup, T> body, TimeSpan? timeout = null)
    {
        var port = ProcessGroup.FreeLoopbackPort();
        var tasks = Enumerable.Range(0, world).Select(rank => Task.Factory.StartNew(() =>
        {
            using var group = new ProcessGroup("127.0.0.1", port, rank, world, timeout ?? Short, prefix: $"test-{port}");
            using var scope = torch.NewDisposeScope();
            return body(group);
        }, TaskCreationOptions.LongRunning)).ToArray();
        Assert.True(Task.WaitAll(tasks, TimeSpan.FromMinutes(2)), "the ranks did not finish within 2 minutes");
        return tasks.Select(t => t.Result).ToArray();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void AllReduceCombinesEveryRanksTensor(int world)
    {
        // Rank r contributes [r + 1, 10 (r + 1)] in float64: the sum, mean, max and min are known in closed form.
        var results = OnRanks(world, g =>
        {
            double[] Reduce(ReduceOp op)
            {
                var t = torch.tensor(new[] { g.Rank + 1.0, 10.0 * (g.Rank + 1) });
                g.all_reduce(t, op);
                return t.ToArray<double>();
            }
            return (sum: Reduce(ReduceOp.SUM), avg: Reduce(ReduceOp.AVG), max: Reduce(ReduceOp.MAX), min: Reduce(ReduceOp.MIN));
        });
        var n = world * (world + 1) / 2.0;
        foreach (var r in results)
        {
            Assert.Equal(new[] { n, 10 * n }, r.sum);
            Assert.Equal(new[] { n / world, 10 * n / world }, r.avg);
            Assert.Equal(new[] { (double)world, 10.0 * world }, r.max);
            Assert.Equal(new[] { 1.0, 10.0 }, r.min);
        }
    }

    [Fact]
    public void BroadcastCopiesTheSourceRanksTensor()
    {
        var results = OnRanks(3, g =>
        {
            var t = torch.full([2, 2], (double)g.Rank, dtype: ScalarType.Float32);
            g.broadcast(t, src: 1);
            return t.ToArray<float>();
        });
        foreach (var r in results) Assert.Equal(new float[] { 1, 1, 1, 1 }, r);
    }

    [Fact]
    public void AllGatherStacksTheRanksInOrder()
    {
        var results = OnRanks(3, g =>
        {
            var gathered = g.all_gather(torch.tensor(new long[] { g.Rank, 100 + g.Rank }));
            return (shape: gathered.shape, values: gathered.ToArray<long>());
        });
        foreach (var r in results)
        {
            Assert.Equal(new long[] { 3, 2 }, r.shape);
            Assert.Equal(new long[] { 0, 100, 1, 101, 2, 102 }, r.values);
        }
    }

    [Fact]
    public void BarrierReturnsOnEveryRank() =>
        Assert.Equal([0, 1], OnRanks(2, g => { g.barrier(); return g.Rank; }));

    [Fact]
    public void ARankThatNeverComesIsAnErrorWithinTheTimeout()
    {
        // World of 2, only rank 0 starts: the rendezvous must give up after the timeout and say so.
        var clock = Stopwatch.StartNew();
        var ex = Assert.Throws<TorchException>(() => new ProcessGroup("127.0.0.1", ProcessGroup.FreeLoopbackPort(), 0, 2, TimeSpan.FromSeconds(2)));
        Assert.Contains("rank 0 of 2", ex.Operation);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"gave up after {clock.Elapsed}");
    }

    [Fact]
    public void ARankThatLeavesMakesTheOthersFailNotHang()
    {
        // Rank 1 leaves after the first all-reduce; rank 0's second all-reduce must end in an error naming the operation.
        var outcomes = OnRanks(2, g =>
        {
            var t = torch.ones(4);
            g.all_reduce(t);
            if (g.Rank == 1) return "left";
            try
            {
                g.all_reduce(t);
                return "completed";
            }
            catch (TorchException e) { return e.Operation; }
        }, timeout: TimeSpan.FromSeconds(5));
        Assert.Equal("left", outcomes[1]);
        Assert.Equal("all_reduce (rank 0 of 2)", outcomes[0]);
    }

    [Fact]
    public void BadArgumentsAreRefusedBeforeAnyConnection()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProcessGroup("127.0.0.1", 29500, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProcessGroup("127.0.0.1", 29500, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProcessGroup("127.0.0.1", 70000, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProcessGroup("127.0.0.1", 29500, 0, 1, TimeSpan.Zero));
        Assert.Throws<ArgumentException>(() => new ProcessGroup(" ", 29500, 0, 1));
    }

    [Fact]
    public void ANonContiguousTensorIsRefusedWithTheFix()
    {
        var message = OnRanks(1, g =>
        {
            var t = torch.zeros(3, 4).t();
            return Assert.Throws<TorchException>(() => g.all_reduce(t)).TorchMessage;
        })[0];
        Assert.Contains("contiguous", message);
        Assert.Contains(".contiguous()", message);
    }
}

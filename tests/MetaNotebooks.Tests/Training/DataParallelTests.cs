using MetaNotebooks.Algorithms;
using MamlLearner = MetaNotebooks.Algorithms.Maml;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Tests.Training;

/// <summary>
/// Data-parallel MAML over c10d: ranks on threads of this process, loopback only, every wait bounded. The meta-gradient
/// is a mean over tasks, so N ranks that each take a share of the meta-batch must train exactly the parameters one process
/// trains (float64, to the rounding of the reduction's order).
/// </summary>
public class DataParallelTests
{

    /// <summary>Runs `body` on `world` ranks at once (null parallel for a world of 0: one plain process).</summary>
    private static T[] OnRanks<T>(int world, Func<DataParallel?, T> body)
    {
        if (world == 0) return [body(null)];
        var port = ProcessGroup.FreeLoopbackPort();
        var tasks = Enumerable.Range(0, world).Select(rank => Task.Factory.StartNew(() =>
        {
            using var parallel = new DataParallel(new ProcessGroup("127.0.0.1", port, rank, world, TimeSpan.FromSeconds(30), $"dp-{port}"));
            return body(parallel);
        }, TaskCreationOptions.LongRunning)).ToArray();
        Assert.True(Task.WaitAll(tasks, TimeSpan.FromMinutes(3)), "the ranks did not finish within 3 minutes");
        return tasks.Select(t => t.Result).ToArray();
    }

    /// <summary>
    /// MAML on sine tasks in float64 as MamlSine trains it (meta-batch 25), the final parameters, flat. Plain SGD rather than
    /// Adam: Adam's step hardly changes when every gradient is scaled alike, SGD's shows any error in the shares' weights.
    /// </summary>
    private static double[] TrainSine(DataParallel? parallel, int iterations, bool firstOrder)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(7);
        using var model = new Mlp([1, 40, 40, 1], g, ScalarType.Float64);
        using var optimizer = new optim.SGD(model.parameters(), 0.01);
        using var tasks = new SineTasks(10, 10, 1, dtype: ScalarType.Float64);
        var maml = new MamlLearner(model, TaskLosses.MeanSquaredError, new MamlOptions { InnerSteps = 1, InnerLearningRate = 0.01, FirstOrder = firstOrder });
        var loop = new TrainingLoop("dp", model, optimizer, iterations, null) { ShowProgress = false, Parallel = parallel };
        loop.Run(i =>
        {
            tasks.Reseed(1_000_003 + i);
            using var batch = tasks.Sample(25);
            return parallel is null ? maml.MetaLossBatched(batch) : parallel.LossShare(batch, maml.MetaLossBatched);
        });
        return model.parameters().SelectMany(p => p.detach().reshape(-1).ToArray<double>()).ToArray();
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(2, true)]
    public void RanksSharingTheMetaBatchTrainWhatOneProcessTrains(int world, bool firstOrder)
    {
        const int iterations = 5;
        var alone = OnRanks(0, p => TrainSine(p, iterations, firstOrder))[0];
        var ranks = OnRanks(world, p => TrainSine(p, iterations, firstOrder));
        // Every rank ends with the same parameters (the optimiser saw the same summed gradient everywhere) …
        foreach (var r in ranks.Skip(1)) Assert.Equal(ranks[0], r);
        // … and they are one process's, to the rounding of summing the shares in another order.
        var worst = alone.Zip(ranks[0], (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < 1e-12, $"largest difference from one process after {iterations} iterations: {worst:E2}");
        // The check can fail: the parameters moved (a run that trained nothing would pass trivially).
        var start = OnRanks(0, p => TrainSine(p, 0, firstOrder))[0];
        Assert.True(start.Zip(alone, (a, b) => Math.Abs(a - b)).Max() > 1e-4, "training did not move the parameters");
    }

    [Fact]
    public void SharesCoverTheBatchOnceInOrder()
    {
        foreach (var (count, world) in new[] { (25, 2), (25, 3), (4, 4), (32, 5), (1, 1) })
        {
            var shares = Enumerable.Range(0, world).Select(r => DataParallel.Share(count, r, world)).ToList();
            Assert.Equal(0, shares[0].Start);
            for (var r = 1; r < world; r++) Assert.Equal(shares[r - 1].Start + shares[r - 1].Count, shares[r].Start);
            Assert.Equal(count, shares.Sum(s => s.Count));
            Assert.True(shares.Max(s => s.Count) - shares.Min(s => s.Count) <= 1);
        }
    }

    [Fact]
    public void AMetaBatchSmallerThanTheWorldIsRefusedWithTheFix()
    {
        var messages = OnRanks(3, p =>
        {
            using var tasks = new SineTasks(5, 5, 1);
            using var batch = tasks.Sample(2);
            return Record.Exception(() => p!.Slice(batch))?.Message;
        });
        Assert.Contains("cannot be split across 3 ranks", messages[2]);
        Assert.Contains("at most 2 ranks", messages[2]);
    }

    [Fact]
    public void AllRanksStopAtTheSameIterationWhenOneIsCancelled()
    {
        // Rank 1's token is cancelled from the start: both ranks must stop before iteration 1, not rank 0 wait for rank 1.
        var reached = OnRanks(2, p =>
        {
            using var scope = NewDisposeScope();
            using var model = new Mlp([1, 4, 1], new Generator(1));
            using var optimizer = new optim.SGD(model.parameters(), 0.1);
            using var cancel = new CancellationTokenSource();
            if (p!.Rank == 1) cancel.Cancel();
            var loop = new TrainingLoop("dp", model, optimizer, 100, null) { ShowProgress = false, Parallel = p };
            return loop.Run(_ => model.forward(ones(3, 1)).pow(2).mean(), cancel.Token).Iterations;
        });
        Assert.Equal([0, 0], reached);
    }
}

using MetaNotebooks.Algorithms;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Cli.Bench.Benchmarks;

/// <summary>
/// One MAML meta-iteration on Omniglot-sized tasks, as ../shared/bench/maml_omniglot_torch.py: 5-way 1-shot with 15
/// queries per class, meta-batch 32, one inner step α = 0.4, the paper's network (4 × [conv 3×3 64 stride 2, batch
/// norm on batch statistics, ReLU], spatial mean, linear head) on random 1×28×28 inputs, then an Adam step. The peer
/// runs the tasks one after another; "loop" is our <see cref="Maml.MetaLoss"/> (the same order of work), "batched"
/// is <see cref="Maml.MetaLossBatched"/>: all 32 tasks in one graph through grouped convolutions.
/// </summary>
public abstract class MamlOmniglotBenchmark(bool secondOrder, bool batched) : IBenchmark
{
    private const int Way = 5, Shot = 1, Query = 15;

    public string Name => $"maml.omniglot.{(secondOrder ? "second-order" : "first-order")}.{(batched ? "batched" : "loop")}";

    public string Measures => $"one meta-iteration, 5-way 1-shot 15 queries, meta-batch 32, 1 inner step, {(secondOrder ? "second" : "first")} order, " +
                              $"{(batched ? "tasks batched (grouped conv)" : "task after task")}, Adam step (maml_omniglot_torch.py)";

    private static int Iterations(BenchSettings s) => s.Pick(3, 1);

    public Measurement RunOurs(BenchSettings s)
    {
        using var outer = NewDisposeScope();
        // Quick mode (the smoke test, no peer) shrinks the meta-batch: it checks that the benchmark runs, not its time.
        var metaBatch = s.Pick(32, 2);
        manual_seed(0);
        using var model = new MamlConvNet(Way);
        using var optimizer = new optim.Adam(model.parameters(), 1e-3);
        var maml = new Maml(model, TaskLosses.CrossEntropy, new MamlOptions { InnerLearningRate = 0.4, FirstOrder = !secondOrder });
        var ys = tensor(Enumerable.Range(0, metaBatch * Way * Shot).Select(i => (long)(i % (Way * Shot) / Shot)).ToArray(), [metaBatch, Way * Shot]);
        var yq = tensor(Enumerable.Range(0, metaBatch * Way * Query).Select(i => (long)(i % (Way * Query) / Query)).ToArray(), [metaBatch, Way * Query]);
        var batch = new TaskBatch(rand(metaBatch, Way * Shot, 1, 28, 28), ys, rand(metaBatch, Way * Query, 1, 28, 28), yq);
        return Harness.Run(() =>
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            using var loss = batched ? maml.MetaLossBatched(batch) : maml.MetaLoss(batch);
            loss.backward();
            optimizer.step();
            loss.item<double>();
        }, Harness.Macro(warmup: 1, samples: Iterations(s)));
    }

    public PeerCommand? Peer(BenchSettings s) =>
        PeerCommand.TimeValue("maml_omniglot_torch.py", [Iterations(s).ToString(), s.Threads.ToString(), secondOrder ? "1" : "0"], "s/iter", 1);
}

public sealed class MamlOmniglotSecondOrderBatchedBenchmark() : MamlOmniglotBenchmark(secondOrder: true, batched: true);
public sealed class MamlOmniglotSecondOrderLoopBenchmark() : MamlOmniglotBenchmark(secondOrder: true, batched: false);
public sealed class MamlOmniglotFirstOrderBatchedBenchmark() : MamlOmniglotBenchmark(secondOrder: false, batched: true);
public sealed class MamlOmniglotFirstOrderLoopBenchmark() : MamlOmniglotBenchmark(secondOrder: false, batched: false);

using MetaNotebooks.Algorithms;
using MetaNotebooks.Experiments;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Cli.Bench.Benchmarks;

/// <summary>
/// One MAML meta-iteration on Mini-ImageNet-sized tasks, as ../shared/bench/maml_miniimagenet_torch.py: 5-way 1-shot with
/// 15 queries per class, meta-batch 4, 5 inner steps α = 0.01, the paper's network (4 × [conv 3×3 32 padding 1, batch norm
/// on batch statistics, ReLU, 2×2 max-pool], 800 flattened features, linear head) on random 3×84×84 inputs, meta-gradients
/// clipped to ±10 by value, then an Adam step. The peer runs the tasks one after another; "loop" is our
/// <see cref="Maml.MetaLoss"/> (the same order of work), "batched" is <see cref="Maml.MetaLossBatched"/>: all tasks in one
/// graph through grouped convolutions.
/// </summary>
public abstract class MamlMiniImageNetBenchmark(bool secondOrder, bool batched) : IBenchmark
{
    private const int Way = 5, Shot = 1, Query = 15, Steps = 5;

    public string Name => $"maml.miniimagenet.{(secondOrder ? "second-order" : "first-order")}.{(batched ? "batched" : "loop")}";

    public string Measures => $"one meta-iteration, 5-way 1-shot 15 queries 84×84, meta-batch 4, 5 inner steps, {(secondOrder ? "second" : "first")} order, " +
                              $"{(batched ? "tasks batched (grouped conv)" : "task after task")}, clip ±10, Adam step (maml_miniimagenet_torch.py)";

    private static int Iterations(BenchSettings s) => s.Pick(2, 1);

    public Measurement RunOurs(BenchSettings s)
    {
        using var outer = NewDisposeScope();
        // Quick mode (the smoke test, no peer) runs one task: it checks that the benchmark runs, not its time.
        var metaBatch = s.Pick(4, 1);
        manual_seed(0);
        using var model = MamlConvNet.MiniImageNet(Way);
        using var optimizer = new optim.Adam(model.parameters(), 1e-3);
        var parameters = model.parameters();
        var maml = new Maml(model, TaskLosses.CrossEntropy, new MamlOptions { InnerSteps = Steps, InnerLearningRate = 0.01, FirstOrder = !secondOrder });
        var ys = tensor(Enumerable.Range(0, metaBatch * Way * Shot).Select(i => (long)(i % (Way * Shot) / Shot)).ToArray(), [metaBatch, Way * Shot]);
        var yq = tensor(Enumerable.Range(0, metaBatch * Way * Query).Select(i => (long)(i % (Way * Query) / Query)).ToArray(), [metaBatch, Way * Query]);
        var batch = new TaskBatch(rand(metaBatch, Way * Shot, 3, 84, 84), ys, rand(metaBatch, Way * Query, 3, 84, 84), yq);
        return Harness.Run(() =>
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            using var loss = batched ? maml.MetaLossBatched(batch) : maml.MetaLoss(batch);
            loss.backward();
            MamlFewShot.ClipGradValue(parameters, 10);
            optimizer.step();
            loss.item<double>();
        }, Harness.Macro(warmup: 1, samples: Iterations(s)));
    }

    public PeerCommand? Peer(BenchSettings s) =>
        PeerCommand.TimeValue("maml_miniimagenet_torch.py", [Iterations(s).ToString(), s.Threads.ToString(), secondOrder ? "1" : "0", Shot.ToString()], "s/iter", 1);
}

public sealed class MamlMiniImageNetSecondOrderLoopBenchmark() : MamlMiniImageNetBenchmark(secondOrder: true, batched: false);
public sealed class MamlMiniImageNetSecondOrderBatchedBenchmark() : MamlMiniImageNetBenchmark(secondOrder: true, batched: true);
public sealed class MamlMiniImageNetFirstOrderLoopBenchmark() : MamlMiniImageNetBenchmark(secondOrder: false, batched: false);
public sealed class MamlMiniImageNetFirstOrderBatchedBenchmark() : MamlMiniImageNetBenchmark(secondOrder: false, batched: true);

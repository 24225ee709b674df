using MetaNotebooks.Algorithms.MetaLearner;
using MetaNotebooks.Experiments;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Cli.Bench.Benchmarks;

/// <summary>
/// One meta-iteration of the meta-learner LSTM on Mini-ImageNet-sized tasks (`mn reproduce metalearner-miniimagenet`):
/// one 5-way K-shot 15-query episode on random 3×84×84 inputs, the authors' updates per task (12 of batch 5 at 1-shot, 8 of
/// batch 25 at 5-shot), the learner MAML's Mini-ImageNet network (32 filters). Phases, each its own benchmark:
/// "inner" is the T updates alone with the graph kept (the learner's loss and gradient at each θ_t, the two LSTM layers);
/// "iteration" adds the query loss at θ_T, backward through every update to the meta-learner, the norm clip and Adam's
/// step. No peer: the authors' code is Lua Torch.
/// </summary>
public abstract class MetaLearnerMiniImageNetBenchmark(int shots, bool wholeIteration) : IBenchmark
{
    private const int Way = 5, Query = 15;

    public string Name => $"metalearner.miniimagenet.{shots}shot.{(wholeIteration ? "iteration" : "inner")}";

    public string Measures
    {
        get
        {
            var c = MetaLearnerMiniImageNetConfig.ForCell(shots);
            return $"5-way {shots}-shot 15 queries 84×84, one episode: {c.InnerSteps} learner updates of batch {c.InnerBatch}" +
                   (wholeIteration ? ", query loss, backward to the meta-learner, clip, Adam step" : " with the graph kept (forward phase only)");
        }
    }

    public Measurement RunOurs(BenchSettings s)
    {
        using var outer = NewDisposeScope();
        var config = MetaLearnerMiniImageNetConfig.ForCell(shots);
        // Quick mode (the smoke test) runs 2 updates on 16 filters: it checks that the benchmark runs, not its time.
        var update = s.Quick ? config.Update with { Steps = 2 } : config.Update;
        manual_seed(0);
        using var model = new MetaLearnerLstm(MamlConvNet.MiniImageNet(Way, filters: s.Pick(32, 16)));
        using var optimizer = new optim.Adam(model.parameters(), config.MetaLearningRate);
        var parameters = model.parameters();
        var ys = arange((long)Way).unsqueeze(1).expand(Way, shots).reshape(1, -1);
        var yq = arange((long)Way).unsqueeze(1).expand(Way, Query).reshape(1, -1);
        var batch = new TaskBatch(rand(1, Way * shots, 3, 84, 84), ys, rand(1, Way * Query, 3, 84, 84), yq);
        return Harness.Run(() =>
        {
            using var scope = NewDisposeScope();
            if (!wholeIteration)
            {
                LearnedUpdate.Train(model, batch.SupportInputs[0], batch.SupportTargets[0], update, createGraph: true).Parameters.sum().item<double>();
                return;
            }
            optimizer.zero_grad();
            using var loss = LearnedUpdate.MetaLoss(model, batch, update);
            loss.backward();
            EpisodeTrainer.ClipGradNorm(parameters, config.ClipNorm);
            optimizer.step();
            loss.item<double>();
        }, Harness.Macro(warmup: 1, samples: s.Pick(3, 1)));
    }

    public PeerCommand? Peer(BenchSettings s) => null;
}

public sealed class MetaLearnerOneShotInnerBenchmark() : MetaLearnerMiniImageNetBenchmark(1, wholeIteration: false);
public sealed class MetaLearnerOneShotIterationBenchmark() : MetaLearnerMiniImageNetBenchmark(1, wholeIteration: true);
public sealed class MetaLearnerFiveShotInnerBenchmark() : MetaLearnerMiniImageNetBenchmark(5, wholeIteration: false);
public sealed class MetaLearnerFiveShotIterationBenchmark() : MetaLearnerMiniImageNetBenchmark(5, wholeIteration: true);

using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Cli.Bench.Benchmarks;

/// <summary>
/// The same episode as <see cref="ProtoNetOmniglotBenchmark"/> (60-way 5-shot 5-query, 600 random 1×28×28 images,
/// Adam 1e-3) but through the course library: <see cref="ConvEncoder"/> (nn.Conv2d/BatchNorm2d modules),
/// <see cref="PrototypicalNetwork.Loss"/> on a <see cref="TaskBatch"/> (prototypes via one-hot matrix products,
/// batched cdist) and the <see cref="Training.TrainingLoop"/> step order (zero_grad, loss, backward, step, item).
/// The gap to protonet.omniglot is the cost of the library's abstractions.
/// </summary>
public sealed class ProtoNetLibraryBenchmark : IBenchmark
{
    private const int Way = 60, Shot = 5, Query = 5;

    public string Name => "protonet.omniglot.library";

    public string Measures => "one ProtoNet training episode, 60-way 5-shot 5-query on 1×28×28, through ConvEncoder + PrototypicalNetwork.Loss + Adam (protonet_omniglot_torch.py)";

    private static int Episodes(BenchSettings s) => s.Pick(10, 1);

    public Measurement RunOurs(BenchSettings s)
    {
        using var outer = NewDisposeScope();
        manual_seed(0);
        var learner = new PrototypicalNetwork(new ConvEncoder());
        using var model = learner.Encoder;
        using var opt = new optim.Adam(model.parameters(), lr: 1e-3);
        var support = rand(1, Way * Shot, 1, 28, 28);
        var query = rand(1, Way * Query, 1, 28, 28);
        var ys = tensor(Enumerable.Range(0, Way * Shot).Select(k => (long)(k / Shot)).ToArray(), [1, Way * Shot]);
        var yq = tensor(Enumerable.Range(0, Way * Query).Select(k => (long)(k / Query)).ToArray(), [1, Way * Query]);
        var batch = new TaskBatch(support, ys, query, yq);
        return Harness.Run(() =>
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            var loss = learner.Loss(batch, Way);
            loss.backward();
            opt.step();
            loss.item<double>();
        }, Harness.Macro(warmup: s.Pick(2, 1), samples: Episodes(s)));
    }

    public PeerCommand Peer(BenchSettings s) =>
        PeerCommand.RateValue("protonet_omniglot_torch.py", [Episodes(s).ToString(), s.Threads.ToString()], "episodes/s");
}

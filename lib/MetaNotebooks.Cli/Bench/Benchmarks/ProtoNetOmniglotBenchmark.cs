using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;
using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Cli.Bench.Benchmarks;

/// <summary>
/// (b) One Prototypical Networks training episode on Omniglot-sized input, mirroring
/// ../shared/bench/protonet_omniglot_torch.py op for op: 60-way 5-shot 5-query (600 images 1×28×28, random), the
/// encoder 4 × [conv 3×3 64 (bias, padding 1), batch norm in training mode (batch statistics, running stats updated
/// with momentum 0.1, num_batches_tracked += 1), ReLU, max-pool 2], flatten; prototypes = support means; logits =
/// −cdist(query, prototypes)²; cross-entropy; zero_grad as PyTorch 1.13 (grads zeroed in place), backward, Adam
/// (lr 1e-3) step, loss.item(). Parameters are explicit tensors (functional style), initialised as nn.Conv2d and
/// nn.BatchNorm2d do. The time is dominated by the encoder's forward and backward (conv, batch norm, pooling).
/// </summary>
public sealed class ProtoNetOmniglotBenchmark : IBenchmark
{
    private const int Way = 60, Shot = 5, Query = 5, Channels = 64, Blocks = 4;

    public string Name => "protonet.omniglot";

    public string Measures => "one ProtoNet training episode, 60-way 5-shot 5-query on 600×1×28×28: 4×[conv3×3 64, batch_norm, relu, max_pool 2] fwd+bwd, Adam step (protonet_omniglot_torch.py)";

    private static int Episodes(BenchSettings s) => s.Pick(10, 1);

    public Measurement RunOurs(BenchSettings s)
    {
        using var outer = NewDisposeScope();
        manual_seed(0);
        var convW = new Tensor[Blocks];
        var convB = new Tensor[Blocks];
        var bnW = new Tensor[Blocks];
        var bnB = new Tensor[Blocks];
        var runningMean = new Tensor[Blocks];
        var runningVar = new Tensor[Blocks];
        var batchesTracked = new Tensor[Blocks];
        long cin = 1;
        for (var i = 0; i < Blocks; i++)
        {
            // nn.Conv2d's reset_parameters: kaiming_uniform_(a = √5) and bias U(±1/√fan_in); nn.BatchNorm2d: ones, zeros.
            convW[i] = empty(Channels, cin, 3, 3);
            nn.init.kaiming_uniform_(convW[i], a: Math.Sqrt(5));
            var bound = 1 / Math.Sqrt(cin * 9);
            convB[i] = empty(Channels);
            nn.init.uniform_(convB[i], -bound, bound);
            bnW[i] = ones(Channels);
            bnB[i] = zeros(Channels);
            runningMean[i] = zeros(Channels);
            runningVar[i] = ones(Channels);
            // num_batches_tracked: int64 in PyTorch; a float scalar here because the binding's add_ passes its scalar (and
            // alpha) as a double, which libtorch refuses for an integral tensor. Same one-element in-place add.
            batchesTracked[i] = zeros([]);
            foreach (var p in new[] { convW[i], convB[i], bnW[i], bnB[i] }) p.requires_grad_();
            cin = Channels;
        }
        var parameters = Enumerable.Range(0, Blocks).SelectMany(i => new[] { convW[i], convB[i], bnW[i], bnB[i] }).ToArray();
        using var opt = new optim.Adam(parameters, lr: 1e-3);
        var x = rand(Way * (Shot + Query), 1, 28, 28);
        var target = tensor(Enumerable.Range(0, Way * Query).Select(k => (long)(k / Query)).ToArray()); // arange(WAY).repeat_interleave(QUERY)

        double? firstLoss = null;
        var m = Harness.Run(() =>
        {
            using var scope = NewDisposeScope();
            var h = x;
            for (var i = 0; i < Blocks; i++)
            {
                h = F.conv2d(h, convW[i], convB[i], padding: 1);
                h = F.batch_norm(h, runningMean[i], runningVar[i], bnW[i], bnB[i], training: true, momentum: 0.1, eps: 1e-5);
                batchesTracked[i].add_(1); // num_batches_tracked += 1
                h = F.relu(h);
                h = F.max_pool2d(h, 2);
            }
            var z = h.flatten(1).view(Way, Shot + Query, -1);
            var protos = z.slice(1, 0, Shot).mean(1);
            var q = z.slice(1, Shot, null).reshape(Way * Query, -1);
            var logits = -F.cdist(q, protos).pow(2);
            var loss = F.cross_entropy(logits, target);
            foreach (var p in parameters) p.grad?.zero_(); // optimizer.zero_grad() of PyTorch 1.13: set_to_none=False
            loss.backward();
            opt.step();
            var value = loss.item<double>();
            firstLoss ??= value;
        }, Harness.Macro(warmup: s.Pick(2, 1), samples: Episodes(s)));
        // Same seed, same initialisation order and same ops as the peer: PyTorch 1.13.1 gives 7.101427 for episode 1.
        return m with { Note = $"loss of episode 1: {firstLoss:F6} (PyTorch, same seed: 7.101427)" };
    }

    public PeerCommand Peer(BenchSettings s) =>
        PeerCommand.RateValue("protonet_omniglot_torch.py", [Episodes(s).ToString(), s.Threads.ToString()], "episodes/s");
}

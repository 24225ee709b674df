using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;
using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Cli.Bench.Benchmarks;

// Per-call overhead, mirroring ../shared/bench/overhead_torch.py: same shapes, same ops, one iteration = one call of
// its lambda. The peer prints add_1elem_us and mlp_fwd_bwd_us from one run; both benchmarks read the same run.

/// <summary>(a) a + b on two 1-element float tensors: the fixed cost of one op through the binding.</summary>
public sealed class OverheadAddBenchmark : IBenchmark
{
    public string Name => "overhead.add";

    public string Measures => "a + b, two 1-element float32 tensors, each call in its own dispose scope (overhead_torch.py: a + b)";

    public Measurement RunOurs(BenchSettings s)
    {
        using var a = ones(1);
        using var b = ones(1);
        return Harness.Run(() =>
        {
            using var scope = NewDisposeScope();
            _ = a + b;
        }, Harness.Micro(s));
    }

    public PeerCommand Peer(BenchSettings s) =>
        PeerCommand.TimeValue("overhead_torch.py", [s.Threads.ToString()], "add_1elem_us", 1e-6);
}

/// <summary>(a) forward and autograd.grad of a 1-40-40-1 ReLU MLP on 10 points (the MAML-sine network).</summary>
public sealed class OverheadMlpBenchmark : IBenchmark
{
    public string Name => "overhead.mlp";

    public string Measures => "1-40-40-1 ReLU MLP on 10 points: linear/relu ×2, linear, mse_loss, autograd.grad of the 6 params (overhead_torch.py: mlp)";

    public Measurement RunOurs(BenchSettings s)
    {
        using var outer = NewDisposeScope();
        var w1 = randn([40, 1], requires_grad: true); var b1 = zeros([40], requires_grad: true);
        var w2 = randn([40, 40], requires_grad: true); var b2 = zeros([40], requires_grad: true);
        var w3 = randn([1, 40], requires_grad: true); var b3 = zeros([1], requires_grad: true);
        var x = randn(10, 1);
        var y = randn(10, 1);
        Tensor[] ps = [w1, b1, w2, b2, w3, b3];
        return Harness.Run(() =>
        {
            using var scope = NewDisposeScope();
            var h = F.relu(F.linear(x, w1, b1));
            h = F.relu(F.linear(h, w2, b2));
            var loss = F.mse_loss(F.linear(h, w3, b3), y);
            autograd.grad(loss, ps);
        }, Harness.Micro(s));
    }

    public PeerCommand Peer(BenchSettings s) =>
        PeerCommand.TimeValue("overhead_torch.py", [s.Threads.ToString()], "mlp_fwd_bwd_us", 1e-6);
}

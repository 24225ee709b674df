using static MetaNotebooks.Torch.Tests.TestUtil;
using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Torch.Tests;

public class ModuleTests
{
    [Fact]
    public void LinearAndItsInitBounds()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        using var lin = new nn.Linear(50, 400, generator: g);
        Assert.Equal(new long[] { 400, 50 }, lin.weight.shape);
        Assert.Equal(new long[] { 400 }, lin.bias!.shape);
        Assert.Equal(new[] { "weight", "bias" }, lin.named_parameters().Select(p => p.name));
        Assert.All(lin.parameters(), p => Assert.True(p.requires_grad && p.is_leaf));
        // PyTorch's default: kaiming_uniform(a = √5) gives U(±1/√fan_in); bias U(±1/√fan_in)
        var bound = 1 / Math.Sqrt(50);
        var w = lin.weight.ToArray<float>();
        Assert.All(w, v => Assert.InRange(v, -bound, bound));
        Assert.InRange(w.Max(), 0.99 * bound, bound);   // 20,000 draws reach the edges
        Assert.InRange(w.Min(), -bound, -0.99 * bound);
        Assert.All(lin.bias.ToArray<float>(), v => Assert.InRange(v, -bound, bound));
        var x = randn([7, 50], g);
        AssertTensor(lin.forward(x), [7, 400], x.matmul(lin.weight.t()).add(lin.bias).to(float64).ToArray<double>(), 1e-5);
        using var noBias = new nn.Linear(3, 2, hasBias: false);
        Assert.Single(noBias.parameters());
        Assert.Equal(ScalarType.Float64, new nn.Linear(2, 2, dtype: float64).weight.dtype);
    }

    [Fact]
    public void InitFunctions()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(2);
        var w = empty(256, 64, 3, 3);               // fan_in = 576, fan_out = 2304
        Assert.Equal((576L, 2304L), nn.init.CalculateFans(w));
        nn.init.kaiming_uniform_(w, generator: g); // a = 0, leaky_relu: gain √2, bound √2·√(3/576)
        var b = Math.Sqrt(2) * Math.Sqrt(3.0 / 576);
        var v = w.ToArray<float>();
        Assert.All(v, x => Assert.InRange(x, -b, b));
        Assert.InRange(v.Max(), 0.99 * b, b);
        nn.init.kaiming_uniform_(w, a: Math.Sqrt(5), generator: g);
        Assert.InRange(w.abs().max().item<float>(), 0.99 / Math.Sqrt(576), 1 / Math.Sqrt(576));
        nn.init.kaiming_uniform_(w, fanIn: false, nonlinearity: "relu", generator: g);
        Assert.InRange(w.abs().max().item<float>(), 0.99 * Math.Sqrt(6.0 / 2304), Math.Sqrt(6.0 / 2304));
        nn.init.kaiming_normal_(w, nonlinearity: "relu", generator: g);
        Assert.InRange(w.std().item<float>(), 0.98 * Math.Sqrt(2.0 / 576), 1.02 * Math.Sqrt(2.0 / 576));
        nn.init.xavier_uniform_(w, generator: g);
        Assert.InRange(w.abs().max().item<float>(), 0.99 * Math.Sqrt(6.0 / 2880), Math.Sqrt(6.0 / 2880));
        nn.init.xavier_normal_(w, gain: 2, generator: g);
        Assert.InRange(w.std().item<float>(), 0.98 * 2 * Math.Sqrt(2.0 / 2880), 1.02 * 2 * Math.Sqrt(2.0 / 2880));
        nn.init.constant_(w, 0.5);
        Assert.Equal(0.5f, w.mean().item<float>());
        nn.init.zeros_(w);
        Assert.Equal(0f, w.abs().max().item<float>());
        nn.init.ones_(w);
        Assert.Equal(1f, w.min().item<float>());
        Assert.Equal(5.0 / 3, nn.init.calculate_gain("tanh"), 12);
        Assert.Equal(Math.Sqrt(2 / (1 + 0.2 * 0.2)), nn.init.calculate_gain("leaky_relu", 0.2), 12);
        Assert.Throws<ArgumentException>(() => nn.init.CalculateFans(zeros(3)));
        var p = ones([3], requires_grad: true);
        nn.init.uniform_(p, generator: g); // init on a parameter runs under no_grad
        Assert.True(p.is_leaf);
    }

    [Fact]
    public void TruncNormalInit()
    {
        using var scope = NewDisposeScope();
        // TensorFlow's tf.truncated_normal(stddev = 0.01): N(0, 0.01²) cut at ±2σ. Its std is
        // σ·√(1 − 2·2φ(2)/(2Φ(2) − 1)) = 0.87962·σ.
        const double sigma = 0.01, truncatedStd = 0.87962 * sigma;
        using var g = new Generator(7);
        var w = empty(1000, 1000);
        Assert.Same(w, nn.init.trunc_normal_(w, 0, sigma, -2 * sigma, 2 * sigma, g));
        var v = w.ToArray<float>();
        Assert.All(v, x => Assert.InRange(x, -2 * sigma, 2 * sigma));
        Assert.InRange(v.Min(), -2 * sigma, -1.99 * sigma);            // the whole range is used
        Assert.InRange(v.Max(), 1.99 * sigma, 2 * sigma);
        Assert.InRange(w.mean().item<float>(), -5 * truncatedStd / 1000, 5 * truncatedStd / 1000);
        Assert.InRange(w.std().item<float>(), 0.995 * truncatedStd, 1.005 * truncatedStd);
        // P(|x| < σ) = P(|z| < 1) / P(|z| < 2) = 0.6827 / 0.9545 = 0.7152 (a plain N(0, σ²) would give 0.6827).
        Assert.InRange(v.Count(x => Math.Abs(x) < sigma) / 1e6, 0.713, 0.717);

        // Seeded: the same generator seed gives the same values; another seed does not.
        using var g1 = new Generator(11);
        using var g2 = new Generator(11);
        using var g3 = new Generator(12);
        var a = nn.init.trunc_normal_(empty(50, 40), std: sigma, a: -2 * sigma, b: 2 * sigma, generator: g1).ToArray<float>();
        Assert.Equal(a, nn.init.trunc_normal_(empty(50, 40), std: sigma, a: -2 * sigma, b: 2 * sigma, generator: g2).ToArray<float>());
        Assert.NotEqual(a, nn.init.trunc_normal_(empty(50, 40), std: sigma, a: -2 * sigma, b: 2 * sigma, generator: g3).ToArray<float>());

        // PyTorch's defaults (mean 0, std 1, a = −2, b = 2) and one-sided bounds: N(0, 1) cut at 0 is the half-normal,
        // mean √(2/π), std √(1 − 2/π); in float64.
        var d = nn.init.trunc_normal_(empty([200_000], dtype: float64), generator: g);
        Assert.InRange(d.min().item<double>(), -2, -1.99);
        Assert.InRange(d.max().item<double>(), 1.99, 2);
        Assert.InRange(d.std().item<double>(), 0.99 * 0.87962, 1.01 * 0.87962);
        var half = nn.init.trunc_normal_(empty([1_000_000], dtype: float64), 0, 1, 0, double.PositiveInfinity, g);
        Assert.InRange(half.min().item<double>(), 0, 1e-4);
        Assert.InRange(half.mean().item<double>(), Math.Sqrt(2 / Math.PI) - 0.003, Math.Sqrt(2 / Math.PI) + 0.003);
        Assert.InRange(half.std().item<double>(), 0.995 * Math.Sqrt(1 - 2 / Math.PI), 1.005 * Math.Sqrt(1 - 2 / Math.PI));

        var p = ones([3], requires_grad: true);
        nn.init.trunc_normal_(p, generator: g);                         // runs under no_grad, stays a leaf
        Assert.True(p.is_leaf);
        Assert.Throws<ArgumentException>(() => nn.init.trunc_normal_(w, std: 0));
        Assert.Throws<ArgumentException>(() => nn.init.trunc_normal_(w, a: 1, b: -1));
    }

    [Fact]
    public void Conv2dModule()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        using var conv = new nn.Conv2d(4, 6, 3, stride: 2, padding: 1, groups: 2, generator: g);
        Assert.Equal(new long[] { 6, 2, 3, 3 }, conv.weight.shape);
        var bound = 1 / Math.Sqrt(2 * 9);
        Assert.All(conv.weight.ToArray<float>(), v => Assert.InRange(v, -bound, bound));
        var x = randn([2, 4, 7, 7], g);
        var y = conv.forward(x);
        Assert.Equal(new long[] { 2, 6, 4, 4 }, y.shape);
        Assert.True(y.equal(F.conv2d(x, conv.weight, conv.bias, stride: 2, padding: 1, groups: 2)));
    }

    [Fact]
    public void BatchNorm2dRunningStats()
    {
        using var scope = NewDisposeScope();
        using var bn = new nn.BatchNorm2d(2, dtype: float64);
        // channel 0: values 1..8, channel 1: all 3
        var data = new double[16];
        for (var i = 0; i < 4; i++) data[i] = i + 1;
        for (var i = 4; i < 8; i++) data[i] = 3;
        for (var i = 8; i < 12; i++) data[i] = i - 3;
        for (var i = 12; i < 16; i++) data[i] = 3;
        var x = tensor(data, [2, 2, 2, 2]); // [N=2, C=2, 2, 2]
        var y = bn.forward(x);
        // channel 0 holds 1..8: mean 4.5, biased var 5.25, unbiased var 6
        AssertTensor(bn.running_mean!, D(0.45, 0.3));
        AssertTensor(bn.running_var!, D(0.9 + 0.6, 0.9));
        Assert.Equal(-3.5 / Math.Sqrt(5.25 + 1e-5), y[0, 0, 0, 0].item<double>(), 10);
        Assert.Equal(0.0, y[0, 1].abs().max().item<double>(), 10);
        _ = bn.forward(x);
        AssertTensor(bn.running_mean!, D(0.45 * 0.9 + 0.45, 0.3 * 0.9 + 0.3));
        bn.eval();
        Assert.False(bn.training);
        var e = bn.forward(x);
        var rm = bn.running_mean!.ToArray<double>();
        var rv = bn.running_var!.ToArray<double>();
        Assert.Equal((1 - rm[0]) / Math.Sqrt(rv[0] + 1e-5), e[0, 0, 0, 0].item<double>(), 10);
        AssertTensor(bn.running_mean!, rm); // eval does not move them
        Assert.Equal(new[] { "weight", "bias" }, bn.named_parameters().Select(p => p.name));
        Assert.Equal(new[] { "running_mean", "running_var" }, bn.named_buffers().Select(p => p.name));
        using var noStats = new nn.BatchNorm2d(2, trackRunningStats: false, dtype: float64);
        noStats.eval();
        Assert.Null(noStats.running_mean);
        Assert.Equal(-3.5 / Math.Sqrt(5.25 + 1e-5), noStats.forward(x)[0, 0, 0, 0].item<double>(), 10); // batch statistics even in eval
    }

    [Fact]
    public void LSTMCellModule()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(4);
        using var cell = new nn.LSTMCell(3, 5, generator: g);
        Assert.Equal(new[] { "weight_ih", "weight_hh", "bias_ih", "bias_hh" }, cell.named_parameters().Select(p => p.name));
        Assert.Equal(new long[] { 20, 3 }, cell.weight_ih.shape);
        Assert.All(cell.parameters().SelectMany(p => p.ToArray<float>()), v => Assert.InRange(v, -1 / Math.Sqrt(5), 1 / Math.Sqrt(5)));
        var x = randn([2, 3], g);
        var h0 = randn([2, 5], g);
        var c0 = randn([2, 5], g);
        var (h, c) = cell.Step(x, (h0, c0));
        var (fh, fc) = F.lstm_cell(x, (h0, c0), cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh);
        Assert.True(h.equal(fh) && c.equal(fc));
        var fromZero = cell.forward(x);
        Assert.True(fromZero.equal(cell.Step(x, (zeros(2, 5), zeros(2, 5))).h));
    }

    [Fact]
    public void SequentialFunctionalForwardWithExplicitParameters()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(5);
        using var model = new nn.Sequential(new nn.Conv2d(1, 3, 3, padding: 1, generator: g), new nn.BatchNorm2d(3), new nn.ReLU(), new nn.MaxPool2d(2),
                                            new nn.Flatten(), new nn.Linear(12, 4, generator: g));
        Assert.Equal(6, model.ParameterCount);
        Assert.Equal(new[] { "0.weight", "0.bias", "1.weight", "1.bias", "5.weight", "5.bias" }, model.named_parameters().Select(p => p.name));
        var x = randn([2, 1, 4, 4], g);
        model.eval();
        var normal = model.forward(x);
        var functional = model.forward(x, model.parameters());
        Assert.True(normal.equal(functional));
        Assert.True(normal.equal(model.call(x)));

        // fast weights: a functional forward with other tensors equals the model with those weights loaded
        var fast = model.parameters().Select(p => p * 0.5 + 0.1).ToList();
        var withFast = model.forward(x, fast);
        using var copy = new nn.Sequential(new nn.Conv2d(1, 3, 3, padding: 1), new nn.BatchNorm2d(3), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(12, 4));
        copy.eval();
        copy.load_state_dict(model.named_parameters().Select((p, i) => (p.name, fast[i])).Concat(model.named_buffers()).ToDictionary(kv => kv.Item1, kv => kv.Item2));
        Assert.True(withFast.allclose(copy.forward(x), 1e-6, 1e-7));
        Assert.False(withFast.allclose(normal));

        // gradients flow to the fast weights and through them to the originals (MAML's outer gradient)
        model.train();
        var loss = model.forward(x, fast).square().sum();
        var grads = autograd.grad([loss], model.parameters());
        Assert.Equal(6, grads.Length);
        Assert.All(grads, gr => Assert.True(gr.abs().sum().item<float>() > 0));
        Assert.Throws<ArgumentException>(() => model.forward(x, fast.Take(5).ToList()));
    }

    [Fact]
    public void TrainEvalAndZeroGrad()
    {
        using var scope = NewDisposeScope();
        var bn = new nn.BatchNorm2d(2);
        using var model = new nn.Sequential(new nn.Linear(2, 2), new nn.Sequential(bn, new nn.ReLU()));
        Assert.True(model.training && bn.training);
        model.eval();
        Assert.False(model.training || bn.training); // propagates to grandchildren
        model.train();
        Assert.True(bn.training);
        model.forward(ones(3, 2)).sum().backward();
        Assert.All(model.parameters().Take(2), p => Assert.NotNull(p.grad));
        model.zero_grad();
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void SequentialPassesAnIdentityChildThrough()
    {
        using var scope = NewDisposeScope();
        using var model = new nn.Sequential(new nn.Flatten(), new Identity(), new nn.ReLU());
        var y = model.forward(tensor(new float[] { -1, 2 }, [1, 2, 1]));
        Assert.Equal(new float[] { 0, 2 }, y.ToArray<float>());
    }

    private sealed class Identity : nn.Module
    {
        protected override Tensor Forward(Tensor input, IReadOnlyList<Tensor> parameters) => input;
    }
}

public class OptimTests
{
    /// <summary>loss = ½·Σ w² (gradient w), so each step's update can be written out by hand.</summary>
    private static void Step(optim.Optimizer opt, Tensor w)
    {
        opt.zero_grad();
        (w * w).sum().mul(0.5).backward();
        opt.step();
    }

    [Fact]
    public void SgdWithMomentumAndWeightDecay()
    {
        using var scope = NewDisposeScope();
        var w = tensor(new[] { 1.0, -2 }, requires_grad: true);
        using var opt = new optim.SGD([w], lr: 0.1, momentum: 0.9, weight_decay: 0.1);
        // step 1: d = 1.1 w0, buf = d, w1 = w0 − 0.11 w0 = 0.89 w0
        Step(opt, w);
        AssertTensor(w, D(0.89, -1.78), 1e-12);
        // step 2: d = 1.1·0.89 w0 = 0.979 w0, buf = 0.9·1.1 w0 + 0.979 w0 = 1.969 w0, w2 = 0.89 w0 − 0.1969 w0
        Step(opt, w);
        AssertTensor(w, D(0.6931, -1.3862), 1e-12);
        Assert.Single(opt.state_dict());
    }

    [Fact]
    public void SgdMomentumCanChangeBetweenSteps()
    {
        using var scope = NewDisposeScope();
        var w = tensor(new[] { 1.0 }, requires_grad: true);
        using var opt = new optim.SGD([w], lr: 0.1, momentum: 0.5);
        Step(opt, w); // buf = 1, w = 0.9
        opt.Momentum = 0.9;
        Assert.Equal(0.9, opt.Momentum);
        Step(opt, w); // buf = 0.9·1 + 0.9 = 1.8, w = 0.9 − 0.18
        AssertTensor(w, D(0.72), 1e-12);
    }

    [Fact]
    public void SgdNesterovAndPlain()
    {
        using var scope = NewDisposeScope();
        var w = tensor(new[] { 1.0 }, requires_grad: true);
        using var opt = new optim.SGD([w], lr: 0.1, momentum: 0.9, weight_decay: 0.1, nesterov: true);
        Step(opt, w); // d = 1.1, buf = 1.1, d' = 1.1 + 0.99 = 2.09 → 0.791
        AssertTensor(w, D(0.791), 1e-12);
        Step(opt, w); // d = 0.8701, buf = 0.99 + 0.8701 = 1.8601, d' = 0.8701 + 1.67409 → 0.791 − 0.254419
        AssertTensor(w, D(0.536581), 1e-12);
        var v = tensor(new[] { 2.0 }, requires_grad: true);
        using var plain = new optim.SGD([v], lr: 0.25);
        Step(plain, v);
        Step(plain, v);
        AssertTensor(v, D(2 * 0.75 * 0.75), 1e-12);
        var unused = tensor(new[] { 5.0 }, requires_grad: true);
        using var skip = new optim.SGD([unused], lr: 1);
        skip.step(); // no gradient: untouched
        AssertTensor(unused, D(5));
    }

    [Fact]
    public void AdamMatchesTheAlgorithm()
    {
        using var scope = NewDisposeScope();
        double[] w0 = [1.0, -2.0, 0.5];
        var w = tensor(w0, requires_grad: true);
        const double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.05;
        using var opt = new optim.Adam([w], lr, b1, b2, eps, weight_decay: wd);
        // Kingma & Ba with PyTorch's placement of eps: w −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + eps), g = ∇ + wd·w
        var expected = (double[])w0.Clone();
        var m = new double[3];
        var v = new double[3];
        for (var t = 1; t <= 2; t++)
        {
            Step(opt, w);
            for (var i = 0; i < 3; i++)
            {
                var g = expected[i] + wd * expected[i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                var denom = Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(b2, t)) + eps;
                expected[i] -= lr / (1 - Math.Pow(b1, t)) * m[i] / denom;
            }
            AssertTensor(w, expected, 1e-12);
        }
        // the state round-trips
        var state = opt.state_dict();
        Assert.Equal(2L, state["step.0"].item<long>());
        var w2 = tensor(w.detach().ToArray<double>(), requires_grad: true);
        using var opt2 = new optim.Adam([w2], lr, b1, b2, eps, weight_decay: wd);
        opt2.load_state_dict(state);
        Step(opt, w);
        Step(opt2, w2);
        Assert.True(w.equal(w2));
    }

    [Fact]
    public void StepLR()
    {
        using var scope = NewDisposeScope();
        using var opt = new optim.SGD([ones([1], requires_grad: true)], lr: 1);
        var sched = new optim.lr_scheduler.StepLR(opt, stepSize: 2, gamma: 0.5);
        var lrs = new List<double> { opt.LearningRate };
        for (var i = 0; i < 5; i++)
        {
            sched.step();
            lrs.Add(opt.LearningRate);
        }
        Assert.Equal(new[] { 1, 1, 0.5, 0.5, 0.25, 0.25 }, lrs);
    }

    [Fact]
    public void GradientClipping()
    {
        using var scope = NewDisposeScope();
        var a = zeros([2], requires_grad: true);
        var b = zeros([2], requires_grad: true);
        var c = zeros([1], requires_grad: true); // no gradient: ignored
        a.grad = tensor(new float[] { 3, 4 });
        b.grad = tensor(new float[] { 0, 12 });
        var total = nn.utils.clip_grad_norm_([a, b, c], 6.5);
        Assert.Equal(13.0, total, 5);
        var coef = 6.5 / (13 + 1e-6);
        AssertTensor(a.grad!, D(3 * coef, 4 * coef));
        AssertTensor(b.grad!, D(0, 12 * coef));
        Assert.Equal(6.5, nn.utils.clip_grad_norm_([a, b], 100), 4); // below the limit: unchanged
        AssertTensor(b.grad!, D(0, 12 * coef));
        nn.utils.clip_grad_value_([a, b, c], 2);
        AssertTensor(a.grad!, D(1.5, 2));
        AssertTensor(b.grad!, D(0, 2));
        Assert.Null(c.grad);
    }
}

/// <summary>A [Fact] that is skipped, with the reason shown, when libtorch has no CUDA device.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (!cuda.is_available())
            Skip = "CUDA is not available here (torch.cuda.is_available() is false: CPU-only libtorch or no GPU)";
    }
}

public class DeviceTests
{
    [CudaFact]
    public void RunsOnCuda()
    {
        using var scope = NewDisposeScope();
        Assert.True(cuda.device_count() > 0);
        var x = tensor(new float[] { 1, 2, 3 }, device: CUDA, requires_grad: true);
        Assert.Equal(DeviceType.CUDA, x.device.Type);
        var y = (x * x).sum();
        y.backward();
        Assert.Equal(new float[] { 2, 4, 6 }, x.grad!.cpu().ToArray<float>());
        var w = randn([3, 4], device: CUDA);
        Assert.Equal(new long[] { 2, 4 }, F.linear(randn([2, 4], device: CUDA), w.t()).shape);
        Assert.Equal("cuda:0", w.device.ToString());
        Assert.Contains("device='cuda:0'", ones(1).to(CUDA).ToString());
        AssertTensor(ones(2).to("cuda:0").cpu(), D(1, 1));
    }

    [Fact]
    public void CpuOnlyWhenCudaIsAbsent()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(DeviceType.CPU, zeros(1).device.Type);
        Assert.Equal(torch.CPU, ones(1).to(torch.device("cpu")).device);
        Assert.Equal(new Device(DeviceType.CUDA, 1), torch.device("cuda:1"));
        Assert.Throws<ArgumentException>(() => torch.device("tpu"));
        if (cuda.is_available()) return;
        Assert.Equal(0, cuda.device_count());
        Assert.Throws<TorchException>(() => zeros(1).to(CUDA));
        Assert.Throws<TorchException>(() => zeros([1], device: CUDA));
    }
}

namespace MetaNotebooks.Torch.Tests;

/// <summary>
/// Tests that use process-wide state (the default generator, the thread count, the resident set size) run in this
/// collection, which xunit runs alone, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalState
{
    public const string Name = "Global state (default generator, threads, memory)";
}

[Collection(GlobalState.Name)]
public class DeterminismTests
{
    private static byte[] Bits(Tensor t) => t.ToArray<double>().SelectMany(BitConverter.GetBytes).ToArray();

    [Fact]
    public void ManualSeedGivesIdenticalBits()
    {
        using var scope = NewDisposeScope();
        manual_seed(42);
        var a = randn([1000], dtype: float64);
        var a2 = rand([10], dtype: float64);
        var a3 = randint(0, 1000, [10]);
        manual_seed(42);
        var b = randn([1000], dtype: float64);
        var b2 = rand([10], dtype: float64);
        var b3 = randint(0, 1000, [10]);
        Assert.Equal(Bits(a), Bits(b));
        Assert.Equal(Bits(a2), Bits(b2));
        Assert.Equal(a3.ToArray<long>(), b3.ToArray<long>());
        manual_seed(43);
        var c = randn([1000], dtype: float64);
        Assert.NotEqual(Bits(a), Bits(c));
        // randn after an odd number of normals: the cached second Box–Muller value is reset by manual_seed too
        manual_seed(7);
        _ = randn([1], dtype: float64);
        var d1 = randn([5], dtype: float64);
        manual_seed(7);
        _ = randn([1], dtype: float64);
        Assert.Equal(Bits(d1), Bits(randn([5], dtype: float64)));
    }

    [Fact]
    public void GeneratorsAreIndependentOfTheGlobalStream()
    {
        using var scope = NewDisposeScope();
        using var g1 = new Generator(7);
        using var g2 = new Generator(7);
        using var g3 = new Generator(8);
        var a = randn([100], g1, float64);
        var b = randn([100], g2, float64);
        var c = randn([100], g3, float64);
        Assert.Equal(Bits(a), Bits(b));
        Assert.NotEqual(Bits(a), Bits(c));
        g1.manual_seed(7);
        Assert.Equal(Bits(a), Bits(randn([100], g1, float64)));
        // a generator's draws do not move the default generator
        manual_seed(5);
        var x = randn([10], dtype: float64);
        manual_seed(5);
        _ = randn([50], g3, float64);
        _ = randperm(10, g3);
        _ = empty([10]).uniform_(0, 1, g3);
        _ = nn.functional.dropout(ones(10), 0.5, generator: g3);
        var y = randn([10], dtype: float64);
        Assert.Equal(Bits(x), Bits(y));
        // same seed → same permutation, dropout mask, init
        Assert.Equal(randperm(20, new Generator(1)).ToArray<long>(), randperm(20, new Generator(1)).ToArray<long>());
        Assert.Equal(nn.functional.dropout(ones(50), 0.5, generator: new Generator(2)).ToArray<float>(),
                     nn.functional.dropout(ones(50), 0.5, generator: new Generator(2)).ToArray<float>());
        using var l1 = new nn.Linear(4, 3, generator: new Generator(3));
        using var l2 = new nn.Linear(4, 3, generator: new Generator(3));
        Assert.Equal(l1.weight.ToArray<float>(), l2.weight.ToArray<float>());
    }

    /// <summary>Trains a small MLP with dropout from the global seed; returns the final parameters' bits and losses.</summary>
    private static (byte[] bits, double[] losses) Train(long seed, int threads)
    {
        var previous = get_num_threads();
        set_num_threads(threads);
        try
        {
            using var scope = NewDisposeScope();
            manual_seed(seed);
            using var model = new nn.Sequential(new nn.Linear(8, 32, dtype: float64), new nn.ReLU(), new nn.Linear(32, 1, dtype: float64));
            using var opt = new optim.Adam(model.parameters(), lr: 0.01);
            var x = randn([256, 8], dtype: float64);
            var y = (x.sum(1, keepdim: true) * 0.5).sin();
            var losses = new double[50];
            for (var step = 0; step < 50; step++)
            {
                using var s = NewDisposeScope();
                var idx = randperm(256)[..64];
                var pred = model.forward(nn.functional.dropout(x[idx], 0.1));
                var loss = nn.functional.mse_loss(pred, y[idx]);
                opt.zero_grad();
                loss.backward();
                opt.step();
                losses[step] = loss.item<double>();
            }
            return (model.parameters().SelectMany(p => Bits(p)).ToArray(), losses);
        }
        finally
        {
            set_num_threads(previous);
        }
    }

    [Fact]
    public void SameSeedAndThreadsGiveTheSameTraining()
    {
        var a = Train(11, 2);
        var b = Train(11, 2);
        Assert.Equal(a.bits, b.bits);
        Assert.Equal(a.losses, b.losses);
        Assert.True(a.losses[^1] < a.losses[0], "the model learns");
        var c = Train(12, 2);
        Assert.NotEqual(a.bits, c.bits);
        var d = Train(11, 1);
        var e = Train(11, 1);
        Assert.Equal(d.bits, e.bits);
    }

    [Fact]
    public void NumThreads()
    {
        var previous = get_num_threads();
        try
        {
            set_num_threads(1);
            Assert.Equal(1, get_num_threads());
            set_num_threads(2);
            Assert.Equal(2, get_num_threads());
            Assert.Throws<ArgumentOutOfRangeException>(() => set_num_threads(0));
        }
        finally
        {
            set_num_threads(previous);
        }
    }
}

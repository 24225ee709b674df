using MetaNotebooks.Algorithms.MetaNet;
using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Tests.MetaNet;

/// <summary>
/// The coordinate-wise generators (docs/metanet.md §2.4–§2.5) compute with the coordinates along the columns for speed;
/// here against the plain row-by-row definitions: m as its Mlp's forward, d as libtorch's LSTM cell from a zero state.
/// </summary>
public class CoordinateGeneratorTests
{
    private static void AssertClose(Tensor expected, Tensor actual, string what) =>
        Assert.True(actual.allclose(expected, 1e-10, 1e-12), $"{what} differs by {(actual - expected).abs().max().item<double>()}");

    [Fact]
    public void MOnColumnsIsTheRowWiseMlp()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(5);
        using var m = CoordinateMlp.Create(g, ScalarType.Float64);
        using (no_grad())
            foreach (var p in m.parameters()) p.normal_(0, 0.5, g);   // non-zero biases too
        var x = randn([3, 40, 2], g, ScalarType.Float64);
        var weights = randn([3, 40], g, ScalarType.Float64);
        var mine = CoordinateMlp.Generate(m, x);
        var reference = m.forward(x).squeeze(-1);
        Assert.Equal(new long[] { 3, 40 }, mine.shape);
        AssertClose(reference, mine, "m's output");
        var a = autograd.grad((mine * weights).sum(), m.parameters());
        var b = autograd.grad((reference * weights).sum(), m.parameters());
        for (var k = 0; k < a.Length; k++) AssertClose(b[k], a[k], $"gradient of parameter {k}");
        Assert.Throws<ArgumentException>(() => CoordinateMlp.Generate(m, x.narrow(2, 0, 1)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void DIsAnLstmCellStartedFromZeroState(int steps)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(6);
        using var d = new CoordinateLstm(g, ScalarType.Float64);
        var p = d.parameters();
        using (no_grad()) p[2].normal_(0, 0.5, g);                  // a non-zero bias, so each gate's bias is checked
        var x = randn([steps, 30, 2], g, ScalarType.Float64);
        var weights = randn([30], g, ScalarType.Float64);
        var mine = d.Generate(x);
        var h = zeros([30, CoordinateLstm.Hidden], ScalarType.Float64);
        var c = zeros([30, CoordinateLstm.Hidden], ScalarType.Float64);
        for (var t = 0; t < steps; t++) (h, c) = F.lstm_cell(x[t], (h, c), p[0], p[1], p[2]);
        var reference = F.linear(h, p[3], p[4]).squeeze(-1);
        Assert.Equal(new long[] { 30 }, mine.shape);
        AssertClose(reference, mine, "d's output");
        var a = autograd.grad((mine * weights).sum(), p, allowUnused: true);
        var b = autograd.grad((reference * weights).sum(), p, allowUnused: true);
        var names = d.named_parameters().Select(n => n.name).ToArray();
        for (var k = 0; k < p.Count; k++) AssertClose(b[k], a[k], $"gradient of {names[k]}");   // W_hh's is 0 for one step: h₀ = 0
    }
}

using MetaNotebooks.Algorithms.MetaNet;

namespace MetaNotebooks.Tests.MetaNet;

/// <summary>The gradient preprocessing against the spec's table (docs/metanet.md §2.3), in float32 as the authors compute it.</summary>
public class LogAndSignTests
{
    [Theory]
    [InlineData(0.0, -1.0, 0.0)]
    [InlineData(1e-3, -0.986805, 1.0)]
    [InlineData(-1e-4, -1.0, -0.109663)]
    [InlineData(5e-4, -1.0, 0.548317)]
    [InlineData(-2e-3, -0.887793, -1.0)]
    [InlineData(0.5, -0.099021, 1.0)]
    [InlineData(2000.0, 1.085843, 1.0)]
    public void MatchesTheSpecTable(double g, double logFeature, double signFeature)
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { (float)g });
        var y = LogAndSign.Apply(x);
        Assert.Equal(new long[] { 1, 2 }, y.shape);
        Assert.Equal(ScalarType.Float32, y.dtype);
        var v = y.to(ScalarType.Float64).ToArray<double>();
        Assert.Equal(logFeature, v[0], 6);
        Assert.Equal(signFeature, v[1], 6);
    }

    [Fact]
    public void IsDataWithoutAGraphAndKeepsLeadingDimensions()
    {
        using var scope = NewDisposeScope();
        var g = randn([3, 7], requires_grad: true);
        var y = LogAndSign.Apply(g * 2);
        Assert.Equal(new long[] { 3, 7, 2 }, y.shape);
        Assert.False(y.requires_grad);
        Assert.Null(y.grad_fn);
    }
}

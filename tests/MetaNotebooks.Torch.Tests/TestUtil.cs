namespace MetaNotebooks.Torch.Tests;

internal static class TestUtil
{
    /// <summary>Asserts shape and values (row-major) of a tensor, element by element within tol.</summary>
    public static void AssertTensor(Tensor actual, long[] shape, double[] expected, double tol = 1e-6)
    {
        Assert.Equal(shape, actual.shape);
        var got = actual.to(ScalarType.Float64).ToArray<double>();
        Assert.Equal(expected.Length, got.Length);
        for (var i = 0; i < got.Length; i++)
        {
            if (double.IsNaN(expected[i])) { Assert.True(double.IsNaN(got[i]), $"element {i}: expected NaN, got {got[i]}"); continue; }
            if (Math.Abs(got[i] - expected[i]) > tol * Math.Max(1, Math.Abs(expected[i])))
                Assert.Fail($"element {i}: expected {expected[i]:R}, got {got[i]:R} (all: [{string.Join(", ", got)}])");
        }
    }

    public static void AssertTensor(Tensor actual, double[] expected, double tol = 1e-6) =>
        AssertTensor(actual, [expected.Length], expected, tol);

    public static double[] D(params double[] v) => v;
    public static long[] S(params long[] v) => v;
}

namespace MetaNotebooks.Torch.Tests;

public class SmokeTests
{
    [Fact]
    public void AddsAndPrints()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        var b = a * 2 + 1;
        Assert.Equal(new float[] { 3, 5, 7, 9 }, b.ToArray<float>());
        Assert.Equal("tensor([[3., 5.],\n        [7., 9.]])", b.ToString());
    }

    [Fact]
    public void SecondOrderGradient()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new double[] { 2.0 }, [1], requires_grad: true);
        var y = (x * x * x).sum();
        var g = autograd.grad(y, [x], createGraph: true)[0];
        Assert.Equal(12.0, g.item<double>(), 10);
        var gg = autograd.grad(g.sum(), [x])[0];
        Assert.Equal(12.0, gg.item<double>(), 10);
    }

    [Fact]
    public void ErrorsCarryTheMessage()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<TorchException>(() => zeros(2, 3).matmul(zeros(2, 3)));
        Assert.Contains("matmul", ex.Message);
        Assert.Contains("cannot be multiplied", ex.Message);
    }
}

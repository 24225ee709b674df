using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Torch.Tests;

/// <summary>libtorch errors become TorchException with libtorch's message and the operation's name.</summary>
public class ErrorTests
{
    private static TorchException Fails(Func<object?> call, string operation, params string[] fragments)
    {
        var ex = Assert.Throws<TorchException>(() => call());
        Assert.Equal(operation, ex.Operation);
        Assert.StartsWith(operation + ": ", ex.Message);
        foreach (var f in fragments) Assert.Contains(f, ex.TorchMessage);
        Assert.DoesNotContain("Exception raised from", ex.TorchMessage); // no C++ backtrace
        return ex;
    }

    [Fact]
    public void ShapeMismatch()
    {
        using var scope = NewDisposeScope();
        Fails(() => zeros(2, 3) + zeros(4), "add", "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1");
        Fails(() => zeros(2, 3).matmul(zeros(2, 3)), "matmul", "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)");
        Fails(() => zeros(2, 3).view(4), "view", "shape '[4]' is invalid for input of size 6");
        Fails(() => cat([zeros(2, 3), zeros(2, 4)]), "cat", "Sizes of tensors must match except in dimension 0");
        Fails(() => F.conv2d(zeros(1, 3, 5, 5), zeros(4, 2, 3, 3)), "conv2d", "expected input[1, 3, 5, 5] to have 2 channels, but got 3 channels instead");
        Fails(() => F.linear(zeros(2, 3), zeros(4, 5)), "linear", "cannot be multiplied");
        Fails(() => F.mse_loss(zeros(2, 3), zeros(3, 2)), "mse_loss", "must match the size");
    }

    [Fact]
    public void BadDim()
    {
        using var scope = NewDisposeScope();
        Fails(() => zeros(2, 3).sum(5), "sum", "Dimension out of range (expected to be in range of [-2, 1], but got 5)");
        Fails(() => zeros(2, 3).softmax(2), "softmax", "Dimension out of range");
        Fails(() => zeros(2, 3).transpose(0, 3), "transpose", "Dimension out of range");
        Fails(() => zeros(2, 3).size(2), "size", "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
        Fails(() => zeros(2, 3).split(1, 2), "split", "Dimension out of range");
        Fails(() => zeros(2, 3).rot90(1, 0, 4), "rot90", "Dimension out of range");
        Fails(() => zeros(2, 3).max(-3), "max", "Dimension out of range");
        Fails(() => zeros(2, 3).index_select(2, tensor(new long[] { 0 })), "index_select", "out of range");
        Fails(() => zeros(2, 3).narrow(1, 2, 2), "narrow", "exceeds dimension size");
    }

    [Fact]
    public void DtypeMismatch()
    {
        using var scope = NewDisposeScope();
        Fails(() => zeros(2, 2).mm(zeros([2, 2], float64)), "mm", "expected scalar type Float but found Double");
        Fails(() => zeros(3).index_select(0, tensor(new float[] { 0 })), "index_select", "index", "int64");
        Fails(() => zeros(3).gather(0, tensor(new[] { 0 })), "gather", "int64");
        Fails(() => F.cross_entropy(zeros(2, 3), tensor(new float[] { 0, 1 })), "cross_entropy", "Float");
        Fails(() => zeros([2], int64).mean(), "mean", "Long");
    }

    [Fact]
    public void AutogradErrors()
    {
        using var scope = NewDisposeScope();
        var x = ones([3], requires_grad: true);
        var y = x * 2;
        Fails(() => autograd.grad([y], [x]), "autograd.grad", "grad can be implicitly created only for scalar outputs");
        Fails(() => { y.backward(); return null; }, "backward", "grad can be implicitly created only for scalar outputs");
        Fails(() => autograd.grad([zeros(1).sum()], [x]), "autograd.grad", "does not require grad");
        var z = (x * x).sum();
        Fails(() => autograd.grad([z], [x, ones([1], requires_grad: true)]), "autograd.grad", "appears to not have been used in the graph");
        var w = (x.exp()).sum();
        w.backward();
        Fails(() => { w.backward(); return null; }, "backward", "Trying to backward through the graph a second time");
        Fails(() => { (x * 2).requires_grad = false; return null; }, "requires_grad", "leaf");
        Fails(() => x.add_(1), "add_", "leaf Variable that requires grad");
        Assert.Throws<TorchException>(() => autograd.grad([z], [x], [null, null]));
    }

    [Fact]
    public void OtherLibtorchErrors()
    {
        using var scope = NewDisposeScope();
        Fails(() => F.cross_entropy(zeros(2, 3), tensor(new long[] { 0, 5 })), "cross_entropy", "Target 5 is out of bounds");
        Fails(() => zeros(3)[tensor(new long[] { 3 })], "index", "out of bounds");
        Fails(() => zeros(2).item<double>(), "item", "2 elements");
        Fails(() => randint(5, 2, [3]), "randint", "random_ expects 'from' to be less than 'to'");
        Fails(() => F.interpolate(zeros(1, 2), 2, 2), "interpolate", "4-D");
        Fails(() => F.affine_grid(zeros(1, 3, 3), [1, 1, 4, 4]), "affine_grid", "Expected a batch of 2D affine matrices of shape Nx2x3");
        Fails(() => F.affine_grid(zeros(2, 2, 3), [1, 1, 4, 4]), "affine_grid", "batch of 1");
        Fails(() => F.affine_grid(zeros(1, 2, 3), [1, 4, 4]), "affine_grid", "only supports 4D and 5D sizes");
        Fails(() => F.grid_sample(zeros(2, 1, 4, 4), zeros(1, 4, 4, 2)), "grid_sample", "same batch size");
        Fails(() => einsum("ij,jk->ik", zeros(2, 3)), "einsum", "operands");
        Fails(() => tensor(new float[] { 1, 2, 3 }, [2, 2]), "tensor", "holds 4 elements but 3 were given");
    }

    [Fact]
    public void AThousandBadCallsThenAGoodOne()
    {
        using var scope = NewDisposeScope();
        var a = zeros(2, 3);
        var b = zeros(4);
        var failures = 0;
        for (var i = 0; i < 1000; i++)
        {
            try
            {
                _ = (i % 5) switch
                {
                    0 => (object)(a + b),
                    1 => a.sum(7),
                    2 => a.matmul(a),
                    3 => a.view(5),
                    _ => autograd.grad([a], [a]),
                };
            }
            catch (TorchException)
            {
                failures++;
            }
        }
        Assert.Equal(1000, failures);
        var good = tensor(new float[] { 1, 2, 3 }) * 2;
        Assert.Equal(new float[] { 2, 4, 6 }, good.ToArray<float>());
        var x = tensor(new[] { 3.0 }, requires_grad: true);
        Assert.Equal(6.0, autograd.grad([(x * x).sum()], [x])[0].item<double>());
    }

    [Fact]
    public void ErrorMessagesDoNotCrossThreads()
    {
        // The native layer keeps the message per thread: concurrent failures each get their own text.
        var errors = new string[8];
        Parallel.For(0, errors.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            using var scope = NewDisposeScope();
            var t = zeros(i + 1, 2);
            for (var k = 0; k < 200; k++)
            {
                try { _ = t.sum(10 + i); }
                catch (TorchException e) { errors[i] = e.TorchMessage; }
            }
        });
        for (var i = 0; i < errors.Length; i++) Assert.Contains($"but got {10 + i})", errors[i]);
    }
}

using static MetaNotebooks.Torch.Tests.TestUtil;

namespace MetaNotebooks.Torch.Tests;

/// <summary>ToString as PyTorch's print (the expected strings are what Python's torch 1.13 prints), and indexing.</summary>
public class FormatAndIndexTests
{
    public static TheoryData<string, Func<Tensor>> Prints => new()
    {
        { "tensor([1., 2., 3.])", () => tensor(new float[] { 1, 2, 3 }) },
        { "tensor([1.5000, 2.2500])", () => tensor(new float[] { 1.5f, 2.25f }) },
        { "tensor([-1.5000,  2.0000])", () => tensor(new float[] { -1.5f, 2 }) },
        { "tensor([ 0.0000, -1.5000])", () => tensor(new float[] { 0, -1.5f }) },
        { "tensor([[1, 2],\n        [3, 4]])", () => tensor(new long[] { 1, 2, 3, 4 }, [2, 2]) },
        { "tensor([ 1, 10, -5])", () => tensor(new long[] { 1, 10, -5 }) },
        { "tensor([ True, False])", () => tensor(new[] { true, false }) },
        { "tensor([1, 2], dtype=torch.int32)", () => tensor(new[] { 1, 2 }) },
        { "tensor([  0, 255], dtype=torch.uint8)", () => tensor(new byte[] { 0, 255 }) },
        { "tensor([1., 2.], dtype=torch.float64)", () => tensor(new double[] { 1, 2 }) },
        { "tensor([1., 2.], requires_grad=True)", () => tensor(new float[] { 1, 2 }, requires_grad: true) },
        { "tensor([2., 4.], grad_fn=<MulBackward0>)", () => tensor(new float[] { 1, 2 }, requires_grad: true) * 2 },
        { "tensor([1., 0.], grad_fn=<RsubBackward1>)", () => 2 - tensor(new float[] { 1, 2 }, requires_grad: true) },
        { "tensor([0.5000, 1.0000], grad_fn=<DivBackward0>)", () => tensor(new float[] { 1, 2 }, requires_grad: true) / 2 },
        { "tensor([3., 4.], grad_fn=<AddBackward0>)", () => tensor(new float[] { 1, 2 }, requires_grad: true) + 2.0 },
        { "tensor([1., 4.], grad_fn=<PowBackward0>)", () => tensor(new float[] { 1, 2 }, requires_grad: true).pow(2) },
        { "tensor(3.5000)", () => tensor(3.5f) },
        { "tensor(3.)", () => tensor(3f) },
        { "tensor(3)", () => tensor(new long[] { 3 }, []) },
        { "tensor(True)", () => tensor(new[] { true }, []) },
        { "tensor(0.1000, dtype=torch.float64)", () => tensor(0.1) },
        { "tensor([1.0000e-05, 1.0000e+00])", () => tensor(new float[] { 1e-5f, 1 }) },
        { "tensor([1.0000e+00, 1.0000e+04])", () => tensor(new float[] { 1, 10000 }) }, // integers, ratio > 1000
        { "tensor([   1., 1000.])", () => tensor(new float[] { 1, 1000 }) },
        { "tensor([1.2346e+08, 1.0000e+00], dtype=torch.float64)", () => tensor(new double[] { 123456789, 1 }) },
        { "tensor([1.5000,    nan,    inf])", () => tensor(new float[] { 1.5f, float.NaN, float.PositiveInfinity }) },
        { "tensor([1., -inf])", () => tensor(new float[] { 1, float.NegativeInfinity }) },
        { "tensor([0., 0.])", () => zeros(2) },
        { "tensor([-0.])", () => tensor(new float[] { -0.0f }) },
        { "tensor([0.0312, 0.0938])", () => tensor(new float[] { 0.03125f, 0.09375f }) }, // exact ties round to even
        { "tensor([0.1235, 0.9999])", () => tensor(new double[] { 0.12345678, 0.99994 }).@float() },
        { "tensor([])", () => zeros(0) },
        { "tensor([], size=(0, 3))", () => zeros(0, 3) },
        { "tensor([], dtype=torch.int64)", () => tensor(Array.Empty<long>()) },
        { "tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]])", () => arange(8).reshape(2, 2, 2) },
        { "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])", () => arange(2000) },
        {
            "tensor([[   0,    1,    2],\n        [   3,    4,    5],\n        [   6,    7,    8],\n        ...,\n" +
            "        [2991, 2992, 2993],\n        [2994, 2995, 2996],\n        [2997, 2998, 2999]])",
            () => arange(3000).reshape(1000, 3)
        },
        {
            "tensor([[   0,    1,    2,  ...,   47,   48,   49],\n        [  50,   51,   52,  ...,   97,   98,   99],\n" +
            "        [ 100,  101,  102,  ...,  147,  148,  149],\n        ...,\n        [1850, 1851, 1852,  ..., 1897, 1898, 1899],\n" +
            "        [1900, 1901, 1902,  ..., 1947, 1948, 1949],\n        [1950, 1951, 1952,  ..., 1997, 1998, 1999]])",
            () => arange(2000).reshape(40, 50)
        },
        {
            "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n" +
            "        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n        28., 29.])",
            () => arange(0.0, 30.0)
        },
        {
            "tensor([1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1.],\n       dtype=torch.float64, requires_grad=True)",
            () => ones([14], float64, requires_grad: true)
        },
    };

    [Theory, MemberData(nameof(Prints))]
    public void ToStringIsPyTorchsPrint(string expected, Func<Tensor> make)
    {
        using var scope = NewDisposeScope();
        Assert.Equal(expected, make().ToString());
    }

    [Fact]
    public void ToStringOfADisposedTensorDoesNotThrow()
    {
        var t = zeros(2);
        t.Dispose();
        Assert.Equal("tensor(<disposed>)", t.ToString());
    }

    // ---------------- indexing ----------------
    private static long[] L(Tensor t) => t.ToArray<long>();

    [Fact]
    public void IntegersRangesAndHat()
    {
        using var scope = NewDisposeScope();
        var t = arange(12).reshape(3, 4);
        Assert.Equal(new long[] { 4, 5, 6, 7 }, L(t[1]));
        Assert.Equal(new long[] { 8, 9, 10, 11 }, L(t[^1]));
        Assert.Equal(6L, t[1, 2].item<long>());
        Assert.Equal(new long[] { }, t[1, 2].shape);
        Assert.Equal(new long[] { 1, 5, 9 }, L(t[.., 1]));
        Assert.Equal(new long[] { 7, 11 }, L(t[1..3, ^1]));
        Assert.Equal(new long[] { 2, 3, 6, 7 }, L(t[..2, 2..]));
        Assert.Equal(new long[] { 5, 6 }, L(t[1, 1..^1]));
        Assert.Equal(new long[] { 0, 4 }, t[^0..].shape); // ^0.. is empty
        Assert.Equal(new long[] { 0 }, t[^0.., 0].shape);
        Assert.Equal(new long[] { 0, 2, 8, 10 }, L(t[TensorIndex.Slice(0, null, 2), TensorIndex.Slice(null, null, 2)]));
        Assert.Equal(new long[] { 1, 3, 9, 11 }, L(t[TensorIndex.Slice(-3, null, 2), TensorIndex.Slice(1, 100, 2)]));
        Assert.Throws<TorchException>(() => t[3]);
        Assert.Throws<TorchException>(() => t[^0]);
        Assert.Throws<TorchException>(() => t[0, 0, 0]);
        Assert.Throws<TorchException>(() => t[TensorIndex.Slice(0, null, -1)]); // negative steps are not supported, as PyTorch
    }

    [Fact]
    public void EllipsisAndNone()
    {
        using var scope = NewDisposeScope();
        var t = arange(24).reshape(2, 3, 4);
        Assert.Equal(new long[] { 2, 3 }, t[TensorIndex.Ellipsis, 0].shape);
        Assert.Equal(new long[] { 0, 4, 8, 12, 16, 20 }, L(t[TensorIndex.Ellipsis, 0]));
        Assert.Equal(new long[] { 3, 4 }, t[1, TensorIndex.Ellipsis].shape);
        Assert.Equal(new long[] { 3 }, t[1, TensorIndex.Ellipsis, 2].shape);
        Assert.Equal(new long[] { 14, 18, 22 }, L(t[1, TensorIndex.Ellipsis, 2]));
        Assert.Equal(new long[] { 1, 2, 3, 4 }, t[TensorIndex.None].shape);
        Assert.Equal(new long[] { 2, 1, 3, 4 }, t[.., TensorIndex.None].shape);
        Assert.Equal(new long[] { 2, 3, 4, 1 }, t[TensorIndex.Ellipsis, TensorIndex.None].shape);
        Assert.Equal(new long[] { 3, 1 }, t[0, .., TensorIndex.None, 1].shape);
        Assert.Equal(new long[] { 2, 3, 4 }, t[TensorIndex.Ellipsis].shape);
        Assert.Throws<TorchException>(() => t[TensorIndex.Ellipsis, 0, TensorIndex.Ellipsis]);
    }

    [Fact]
    public void TensorIndicesAndMasks()
    {
        using var scope = NewDisposeScope();
        var t = arange(12).reshape(3, 4);
        Assert.Equal(new long[] { 8, 9, 10, 11, 0, 1, 2, 3 }, L(t[tensor(new long[] { 2, 0 })]));
        Assert.Equal(new long[] { 3, 2 }, t[.., tensor(new long[] { 3, 0 })].shape);
        Assert.Equal(new long[] { 3, 0, 7, 4, 11, 8 }, L(t[.., tensor(new long[] { 3, 0 })]));
        // two tensor indices are paired (advanced indexing), not crossed
        Assert.Equal(new long[] { 1, 11 }, L(t[tensor(new long[] { 0, 2 }), tensor(new long[] { 1, 3 })]));
        // and broadcast against each other
        Assert.Equal(new long[] { 2, 2 }, t[tensor(new long[] { 0, 2 }, [2, 1]), tensor(new long[] { 1, 3 })].shape);
        Assert.Equal(new long[] { 1, 3, 9, 11 }, L(t[tensor(new long[] { 0, 2 }, [2, 1]), tensor(new long[] { 1, 3 })]));
        Assert.Equal(new long[] { 6, 7, 8, 9, 10, 11 }, L(t[t > 5]));
        Assert.Equal(new long[] { 4, 5, 6, 7 }, L(t[tensor(new[] { false, true, false })]));
        Assert.Equal(new long[] { 1, 3, 5, 7, 9, 11 }, L(t[.., tensor(new[] { false, true, false, true })]));
        Assert.Equal(new long[] { 5, 7 }, L(t[1, tensor(new[] { false, true, false, true })]));
        Assert.Equal(new long[] { 2, 2 }, t[1.., tensor(new long[] { 0, 2 })].shape);
        Assert.Equal(new long[] { 4, 6, 8, 10 }, L(t[1.., tensor(new long[] { 0, 2 })]));
        var cube = arange(24).reshape(2, 3, 4);
        Assert.Equal(new long[] { 1, 2, 4 }, cube[tensor(new long[] { 1 }), TensorIndex.Slice(1, null), TensorIndex.Ellipsis].shape);
        Assert.Equal(new long[] { 3, 4 }, cube[cube.sum(-1) > 40].shape); // a 2-D mask covers two dims
        Assert.Throws<TorchException>(() => t[tensor(new long[] { 5 })]);
        Assert.Throws<TorchException>(() => t[tensor(new[] { true, false })]);
    }

    [Fact]
    public void IndexedAssignment()
    {
        using var scope = NewDisposeScope();
        var t = zeros([3, 4], float64);
        t[1] = tensor(new[] { 1.0, 2, 3, 4 });
        t[.., 0] = tensor(7.0);                       // broadcast
        t[2, 1..3] = tensor(new float[] { 8, 9 });    // converted to t's dtype
        AssertTensor(t, [3, 4], D(7, 0, 0, 0, 7, 2, 3, 4, 7, 8, 9, 0));
        t[t > 6] = tensor(-1.0);
        AssertTensor(t, [3, 4], D(-1, 0, 0, 0, -1, 2, 3, 4, -1, -1, -1, 0));
        t[tensor(new long[] { 0, 2 }), tensor(new long[] { 3, 3 })] = tensor(new[] { 5.0, 6 });
        AssertTensor(t, [3, 4], D(-1, 0, 0, 5, -1, 2, 3, 4, -1, -1, -1, 6));
        t[1.., tensor(new long[] { 1 })] = tensor(new float[] { 10 }); // basic and advanced together write through
        AssertTensor(t, [3, 4], D(-1, 0, 0, 5, -1, 10, 3, 4, -1, 10, -1, 6));
        t[TensorIndex.Ellipsis] = tensor(1.0);
        AssertTensor(t, [3, 4], Enumerable.Repeat(1.0, 12).ToArray());
        var s = t[1..];          // a view
        s.mul_(3);
        AssertTensor(t[.., 0], D(1, 3, 3));
        Assert.Throws<TorchException>(() => t[0] = zeros(5));
    }
}

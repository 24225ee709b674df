using static MetaNotebooks.Torch.Tests.TestUtil;
using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Torch.Tests;

/// <summary>Values against hand-computed results, a few per op family; broadcasting; dtype promotion.</summary>
public class ValueTests
{
    private static readonly double E = Math.E;

    // ---------------- creation ----------------
    [Fact]
    public void Factories()
    {
        using var scope = NewDisposeScope();
        AssertTensor(zeros(2, 3), [2, 3], new double[6]);
        AssertTensor(ones([2], float64), D(1, 1));
        Assert.Equal(ScalarType.Float64, ones([2], float64).dtype);
        Assert.Equal(ScalarType.Float32, zeros(1).dtype);
        AssertTensor(full([2, 2], 2.5), [2, 2], D(2.5, 2.5, 2.5, 2.5));
        Assert.Equal([0, 4], empty([0, 4]).shape);
        AssertTensor(eye(2, 3), [2, 3], D(1, 0, 0, 0, 1, 0));
        AssertTensor(arange(0.0, 1.0, 0.25), D(0, 0.25, 0.5, 0.75));
        AssertTensor(linspace(0, 1, 5), D(0, 0.25, 0.5, 0.75, 1));
        var a = arange(4);
        Assert.Equal(ScalarType.Int64, a.dtype);
        Assert.Equal(new long[] { 0, 1, 2, 3 }, a.ToArray<long>());
        Assert.Equal(ScalarType.Int64, arange(1, 7, 2).dtype); // integral arguments give int64, as PyTorch
        Assert.Equal(new long[] { 1, 3, 5 }, arange(1, 7, 2).ToArray<long>());
        Assert.Equal(ScalarType.Float32, arange(1.0, 3.0).dtype);
        var like = full_like(a, 7);
        Assert.Equal(ScalarType.Int64, like.dtype);
        Assert.Equal(new long[] { 7, 7, 7, 7 }, like.ToArray<long>());
        Assert.Equal(ScalarType.Float64, zeros_like(a, float64).dtype);
        Assert.Equal([4], ones_like(a).shape);
        AssertTensor(tensor(new double[,] { { 1, 2 }, { 3, 4 } }), [2, 2], D(1, 2, 3, 4));
        Assert.Equal(new long[] { 0, 2 }, tensor(new double[0, 2]).shape);
        Assert.Equal(ScalarType.Int64, tensor(new long[,] { { 1 } }).dtype);
        Assert.Equal(ScalarType.Byte, tensor(new byte[] { 1, 255 }).dtype);
        Assert.Equal(ScalarType.Bool, tensor(new[] { true }).dtype);
        Assert.Equal(ScalarType.Int32, tensor(new[] { 1, 2 }).dtype);
        var fromSpan = FromData<float>(new float[] { 1, 2, 3, 4, 5, 6 }.AsSpan(2), [2, 2]);
        AssertTensor(fromSpan, [2, 2], D(3, 4, 5, 6));
        Assert.Throws<TorchException>(() => tensor(new float[] { 1, 2, 3 }, [2, 2]));
    }

    [Fact]
    public void RandomFactoriesHaveTheirRanges()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var u = rand([1000], g).ToArray<float>();
        Assert.All(u, v => Assert.InRange(v, 0f, 1f - 1e-7f));
        var n = randn([10000], g, float64);
        Assert.InRange(n.mean().item<double>(), -0.05, 0.05);
        Assert.InRange(n.std().item<double>(), 0.95, 1.05);
        var ri = randint(-2, 3, [1000], g).ToArray<long>();
        Assert.All(ri, v => Assert.InRange(v, -2, 2));
        Assert.Equal(5, ri.Distinct().Count());
        var perm = randperm(50, g).ToArray<long>();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), perm.Order());
        var t = empty([2000], float64);
        t.uniform_(-3, -1, g);
        Assert.All(t.ToArray<double>(), v => Assert.InRange(v, -3, -1));
        t.normal_(10, 0.5, g);
        Assert.InRange(t.mean().item<double>(), 9.95, 10.05);
        Assert.InRange(t.std().item<double>(), 0.47, 0.53);
        var b = zeros(4000).bernoulli_(0.25, g);
        Assert.InRange(b.mean().item<double>(), 0.22, 0.28);
        var m = multinomial(tensor(new float[] { 0, 1, 0, 3 }), 200, replacement: true, generator: g).ToArray<long>();
        Assert.All(m, v => Assert.True(v is 1 or 3));
        Assert.InRange(m.Count(v => v == 3), 130, 175);
    }

    // ---------------- element-wise ----------------
    [Fact]
    public void UnaryMath()
    {
        using var scope = NewDisposeScope();
        AssertTensor(tensor(new[] { 0.0, 1.0 }).exp(), D(1, E));
        AssertTensor(tensor(new[] { 1.0, E * E }).log(), D(0, 2));
        AssertTensor(tensor(new[] { 4.0, 9.0 }).sqrt(), D(2, 3));
        AssertTensor(tensor(new[] { 4.0, 0.25 }).rsqrt(), D(0.5, 2));
        AssertTensor(tensor(new[] { -2.0, 0, 3 }).sign(), D(-1, 0, 1));
        AssertTensor(tensor(new[] { -2.0, 0, 3 }).abs(), D(2, 0, 3));
        AssertTensor(tensor(new[] { -2.0, 0, 3 }).relu(), D(0, 0, 3));
        AssertTensor(tensor(new[] { -1.5, 1.5, 2.5 }).floor(), D(-2, 1, 2));
        AssertTensor(tensor(new[] { -1.5, 1.5 }).ceil(), D(-1, 2));
        AssertTensor(tensor(new[] { 0.5, 1.5, 2.5, -0.5 }).round(), D(0, 2, 2, -0)); // half to even, as torch.round
        AssertTensor(tensor(new[] { -1.7, 1.7 }).trunc(), D(-1, 1));
        AssertTensor(tensor(new[] { 0.0 }).sigmoid(), D(0.5));
        AssertTensor(tensor(new[] { Math.Log(3) }).sigmoid(), D(0.75));
        AssertTensor(tensor(new[] { 0.0, 1.0 }).tanh(), D(0, Math.Tanh(1)));
        AssertTensor(tensor(new[] { Math.PI / 2, 0 }).sin(), D(1, 0));
        AssertTensor(tensor(new[] { Math.PI, 0 }).cos(), D(-1, 1));
        AssertTensor(tensor(new[] { -3.0, 0.2, 3 }).clamp(-1, 1), D(-1, 0.2, 1));
        AssertTensor(tensor(new[] { -3.0, 0.2, 3 }).clamp(min: 0.5), D(0.5, 0.5, 3));
        AssertTensor(tensor(new[] { 2.0, 3.0 }).pow(2), D(4, 9));
        AssertTensor(tensor(new[] { 4.0 }).pow(0.5), D(2));
        AssertTensor(tensor(new[] { 2.0, 3 }).pow(tensor(new[] { 3.0, 2 })), D(8, 9));
        AssertTensor(tensor(new[] { 2.0, -4 }).reciprocal(), D(0.5, -0.25));
        AssertTensor(tensor(new[] { 8.0 }).log2(), D(3));
        AssertTensor(tensor(new[] { 0.0 }).erf(), D(0));
        AssertTensor(tensor(new[] { 0.0, 0.5, -0.9 }).erf().erfinv(), D(0, 0.5, -0.9));
        Assert.Equal(D(double.PositiveInfinity, double.NegativeInfinity), erfinv(tensor(new[] { 1.0, -1.0 })).ToArray<double>());
        AssertTensor(tensor(new[] { 1.0 }).silu(), D(1 / (1 + Math.Exp(-1))));
        AssertTensor(tensor(new[] { 1.0, double.NaN }).isnan().to(float64), D(0, 1));
        AssertTensor(tensor(new[] { 1.0, double.PositiveInfinity }).isfinite().to(float64), D(1, 0));
    }

    [Fact]
    public void BinaryArithmeticAndBroadcasting()
    {
        using var scope = NewDisposeScope();
        var col = tensor(new float[] { 1, 2 }, [2, 1]);
        var row = tensor(new float[] { 10, 20, 30 });
        AssertTensor(col + row, [2, 3], D(11, 21, 31, 12, 22, 32));
        AssertTensor(row - col, [2, 3], D(9, 19, 29, 8, 18, 28));
        AssertTensor(col * row, [2, 3], D(10, 20, 30, 20, 40, 60));
        AssertTensor(row / col, [2, 3], D(10, 20, 30, 5, 10, 15));
        AssertTensor(zeros(4, 1, 3) + ones(2, 1), [4, 2, 3], Enumerable.Repeat(1.0, 24).ToArray());
        AssertTensor(1 - row, D(-9, -19, -29));
        AssertTensor(60 / row, D(6, 3, 2));
        AssertTensor(60.0 / row, D(6, 3, 2));
        AssertTensor(row * 0.5, D(5, 10, 15));
        AssertTensor(2.0 - row, D(-8, -18, -28));
        AssertTensor(row % 7, D(3, 6, 2));
        AssertTensor(tensor(new float[] { -7 }) % 3, D(2)); // Python's sign convention
        AssertTensor(row.maximum(tensor(new float[] { 15 })), D(15, 20, 30));
        AssertTensor(row.minimum(tensor(new float[] { 15 })), D(10, 15, 15));
        AssertTensor(tensor(new[] { 1.0 }).atan2(tensor(new[] { 1.0 })), D(Math.PI / 4));
        AssertTensor(row.floor_divide(7), D(1, 2, 4));
        AssertTensor((row > 15).to(float64), D(0, 1, 1));
        AssertTensor((row <= 20).to(float64), D(1, 1, 0));
        AssertTensor(row.eq(20).to(float64), D(0, 1, 0));
        AssertTensor(row.ne(tensor(new float[] { 20 })).to(float64), D(1, 0, 1));
        AssertTensor(where(row > 15, row, -row), D(-10, 20, 30));
        AssertTensor(where(row > 15, row, 0.5), D(0.5, 20, 30));
        AssertTensor(where(row > 15, -1, row), D(10, -1, -1));
        Assert.Equal(ScalarType.Int64, where(arange(3) > 0, arange(3), 7).dtype);
        var m = tensor(new[] { true, false, true });
        AssertTensor((m & !m).to(float64), D(0, 0, 0));
        AssertTensor((m | tensor(new[] { false, true, false })).to(float64), D(1, 1, 1));
        AssertTensor(m.logical_xor(tensor(new[] { true, true, false })).to(float64), D(0, 1, 1));
        var ex = Assert.Throws<TorchException>(() => zeros(2, 3) + zeros(4));
        Assert.Contains("must match the size", ex.Message);
    }

    [Fact]
    public void DtypePromotion()
    {
        using var scope = NewDisposeScope();
        var i64 = tensor(new long[] { 1, 2, 3 });
        var f32 = tensor(new float[] { 1, 2, 3 });
        var f64 = tensor(new double[] { 1, 2, 3 });
        Assert.Equal(ScalarType.Float32, (i64 + f32).dtype);
        Assert.Equal(ScalarType.Float64, (f32 + f64).dtype);
        Assert.Equal(ScalarType.Int64, (i64 * 2).dtype);   // integer scalar keeps int64
        Assert.Equal(new long[] { 2, 4, 6 }, (i64 * 2).ToArray<long>());
        Assert.Equal(ScalarType.Int64, (3 - i64).dtype);
        Assert.Equal(ScalarType.Float32, (i64 * 2.5).dtype); // float scalar → default dtype
        Assert.Equal(ScalarType.Float32, (i64 / 2).dtype);   // true division
        AssertTensor(i64 / 2, D(0.5, 1, 1.5));
        Assert.Equal(ScalarType.Float32, (f32 * 2.5).dtype); // a double scalar does not promote a float tensor
        Assert.Equal(ScalarType.Float32, (f32 + tensor(2.0)).dtype); // nor does a 0-d float64 tensor
        Assert.Equal(ScalarType.Float64, (i64 + tensor(2.0)).dtype); // a 0-d tensor of a higher category does
        Assert.Equal(ScalarType.Int64, (tensor(new[] { 1, 2 }) + i64[..2]).dtype);
        Assert.Equal(ScalarType.Int16, (tensor(new byte[] { 1 }) + FromData(new sbyte[] { 1 }, [1])).dtype);
        Assert.Equal(ScalarType.Int64, (tensor(new[] { true, false }) * 2).dtype);
        Assert.Equal(ScalarType.Bool, (f32 > 1).dtype);
        Assert.Equal(ScalarType.Float32, f32.mean().dtype);
        Assert.Equal(ScalarType.Int64, tensor(new[] { 1, 2 }).sum().dtype); // integer sums accumulate in int64
        Assert.Throws<TorchException>(() => i64.mean()); // mean of an integer tensor is an error in libtorch
    }

    [Fact]
    public void ConversionsItemAndToArray()
    {
        using var scope = NewDisposeScope();
        var t = tensor(new[] { 2.7, -2.7, 0.0, 255.9 });
        Assert.Equal(new long[] { 2, -2, 0, 255 }, t.to(int64).ToArray<long>()); // truncation toward zero
        Assert.Equal(new[] { true, true, false, true }, t.to(@bool).ToArray<bool>());
        Assert.Equal(new byte[] { 2, 0, 255 }, tensor(new[] { 2.7, 0.0, 255.0 }).to(uint8).ToArray<byte>());
        Assert.Equal(new float[] { 2.7f, -2.7f, 0, 255.9f }, t.@float().ToArray<float>());
        Assert.Equal(ScalarType.Float32, t.@float().dtype);
        Assert.Equal(ScalarType.Float64, tensor(new float[] { 1 }).@double().dtype);
        Assert.Equal(ScalarType.Int64, t.@long().dtype);
        Assert.Equal(ScalarType.Bool, t.@bool().dtype);
        Assert.Equal(ScalarType.Float16, t.to(float16).dtype);
        Assert.Equal(new[] { (Half)2.7, (Half)(-2.7) }, t[..2].to(float16).ToArray<Half>());
        Assert.Equal(new[] { 2, -2 }, t[..2].ToArray<int>());
        Assert.Equal(2, tensor(2.9).item<int>());
        Assert.Equal(-2L, tensor(-2.9).item<long>());
        Assert.Equal(2.5f, tensor(2.5).item<float>());
        Assert.True(tensor(new[] { true }).item<bool>());
        Assert.False(tensor(0.0).item<bool>());
        const long big = (1L << 53) + 1; // not representable as a double
        Assert.Equal(big, tensor(new[] { big }).item<long>());
        Assert.Equal(big, tensor(new[] { big }).ToArray<long>()[0]);
        Assert.Equal(big + 2, (tensor(new[] { big }) + 2).item<long>());
        var ex = Assert.Throws<TorchException>(() => zeros(2).item<double>());
        Assert.Contains("2 elements", ex.Message);
        Assert.Throws<TorchException>(() => zeros(3).item<long>());
        Assert.Equal(new long[] { 2, 3 }, zeros(2, 3).shape);
        Assert.Equal(2, zeros(2, 3).dim());
        Assert.Equal(3, zeros(2, 3).size(-1));
        Assert.Equal(6, zeros(2, 3).numel());
        Assert.Equal("cpu", zeros(1).device.ToString());
        var copy = t.to(float64, copy: true);
        copy.zero_();
        Assert.Equal(2.7, t[0].item<double>());
        var same = t.to(float64);
        same.zero_(); // no copy: the same storage
        Assert.Equal(0.0, t[0].item<double>());
    }

    // ---------------- reductions ----------------
    [Fact]
    public void Reductions()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new double[] { 1, 2, 3, 4 });
        AssertTensor(x.sum(), [], D(10));
        AssertTensor(x.mean(), [], D(2.5));
        AssertTensor(x.std(), [], D(Math.Sqrt(5.0 / 3)));
        AssertTensor(x.std(unbiased: false), [], D(Math.Sqrt(1.25)));
        AssertTensor(x.var(), [], D(5.0 / 3));
        AssertTensor(x.var(0, unbiased: false), [], D(1.25));
        AssertTensor(x.prod(), [], D(24));
        AssertTensor(x.cumsum(0), D(1, 3, 6, 10));
        AssertTensor(tensor(new[] { 0.0, Math.Log(3) }).logsumexp(0), [], D(Math.Log(4)));
        AssertTensor(tensor(new[] { 3.0, -4 }).norm(), [], D(5));
        AssertTensor(tensor(new[] { 3.0, -4 }).norm(1.0), [], D(7));
        AssertTensor(tensor(new[] { 3.0, -4 }).norm(0, p: double.PositiveInfinity), [], D(4));
        var m = tensor(new double[,] { { 1, 5, 2 }, { 7, 0, 3 } });
        AssertTensor(m.sum(0), D(8, 5, 5));
        AssertTensor(m.sum(1, keepdim: true), [2, 1], D(8, 10));
        AssertTensor(m.sum([0, 1]), [], D(18));
        AssertTensor(m.mean(-1), D(8.0 / 3, 10.0 / 3));
        AssertTensor(m.amax(1), D(5, 7));
        AssertTensor(m.amin(0, keepdim: true), [1, 3], D(1, 0, 2));
        AssertTensor(m.max(), [], D(7));
        AssertTensor(m.min(), [], D(0));
        var (values, indexes) = m.max(1);
        AssertTensor(values, D(5, 7));
        Assert.Equal(new long[] { 1, 0 }, indexes.ToArray<long>());
        var (minV, minI) = m.min(0, keepdim: true);
        AssertTensor(minV, [1, 3], D(1, 0, 2));
        Assert.Equal(new long[] { 0, 1, 0 }, minI.ToArray<long>());
        Assert.Equal(3L, m.argmax().item<long>());
        Assert.Equal(new long[] { 1, 0 }, m.argmax(1).ToArray<long>());
        Assert.Equal(new long[] { 0, 1 }, m.argmin(1).ToArray<long>());
        Assert.Equal(new long[] { 2, 1 }, m.argmax(1, keepdim: true).shape);
        AssertTensor(m.std(1), D(Math.Sqrt(13.0 / 3), Math.Sqrt(37.0 / 3)));
        AssertTensor(m.var([0, 1]), [], D(6.8));
        AssertTensor(m.norm(1, p: 1, keepdim: true), [2, 1], D(8, 10));
        AssertTensor(m.logsumexp([0, 1]), [], D(Math.Log(new double[] { 1, 5, 2, 7, 0, 3 }.Sum(Math.Exp))));
        var (tv, ti) = m.topk(2, 1);
        AssertTensor(tv, [2, 2], D(5, 2, 7, 3));
        Assert.Equal(new long[] { 1, 2, 0, 2 }, ti.ToArray<long>());
        var (sv, si) = m.sort(1, descending: true);
        AssertTensor(sv, [2, 3], D(5, 2, 1, 7, 3, 0));
        Assert.Equal(new long[] { 1, 2, 0, 0, 2, 1 }, si.ToArray<long>());
        Assert.True((m >= 0).all().item<bool>());
        Assert.False((m > 6).all().item<bool>());
        Assert.True((m > 6).any().item<bool>());
    }

    // ---------------- linear algebra ----------------
    [Fact]
    public void LinearAlgebra()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new double[,] { { 1, 2 }, { 3, 4 } });
        var b = tensor(new double[,] { { 5, 6 }, { 7, 8 } });
        AssertTensor(a.matmul(b), [2, 2], D(19, 22, 43, 50));
        AssertTensor(a.mm(b), [2, 2], D(19, 22, 43, 50));
        AssertTensor(a.matmul(tensor(new[] { 1.0, 1 })), D(3, 7));
        AssertTensor(stack([a, b]).bmm(stack([b, a])), [2, 2, 2], D(19, 22, 43, 50, 23, 34, 31, 46));
        AssertTensor(stack([a, b]).matmul(a), [2, 2, 2], D(7, 10, 15, 22, 23, 34, 31, 46)); // broadcast
        AssertTensor(tensor(new[] { 1.0, 2, 3 }).dot(tensor(new[] { 4.0, 5, 6 })), [], D(32));
        AssertTensor(tensor(new[] { 1.0, 2 }).outer(tensor(new[] { 3.0, 4, 5 })), [2, 3], D(3, 4, 5, 6, 8, 10));
        AssertTensor(einsum("ii->", a), [], D(5));
        AssertTensor(einsum("ij,jk->ik", a, b), [2, 2], D(19, 22, 43, 50));
        AssertTensor(einsum("ij->j", a), D(4, 6));
        AssertTensor(einsum("bi,bi->b", a, b), D(17, 53));
        AssertTensor(a.t(), [2, 2], D(1, 3, 2, 4));
        var ex = Assert.Throws<TorchException>(() => a.mm(zeros([3, 2], float64)));
        Assert.Contains("cannot be multiplied", ex.Message);
    }

    [Fact]
    public void FusedMultiplyAdds()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new double[,] { { 1, 2 }, { 3, 4 } });
        var b = tensor(new double[,] { { 5, 6 }, { 7, 8 } });
        AssertTensor(a.add(b, 0.5), [2, 2], D(3.5, 5, 6.5, 8));
        AssertTensor(torch.add(a, b, -1), [2, 2], D(-4, -4, -4, -4));
        AssertTensor(a.addmm(a, b, beta: 2, alpha: 0.5), [2, 2], D(2 + 9.5, 4 + 11, 6 + 21.5, 8 + 25));
        AssertTensor(tensor(new[] { 1.0, -1 }).addmm(a, b), [2, 2], D(20, 21, 44, 49)); // a broadcast bias
        AssertTensor(stack([a, b]).baddbmm(stack([a, a]), stack([b, b]), beta: 0, alpha: 1), [2, 2, 2], D(19, 22, 43, 50, 19, 22, 43, 50));
        AssertTensor(a.addcmul(a, b, 2), [2, 2], D(11, 26, 45, 68));
        AssertTensor(a.lerp(b, 0.25), [2, 2], D(2, 3, 4, 5));
    }

    // ---------------- shapes ----------------
    [Fact]
    public void ShapeOps()
    {
        using var scope = NewDisposeScope();
        var x = arange(6).reshape(2, 3); // [[0,1,2],[3,4,5]]
        Assert.Equal(new long[] { 0, 3, 1, 4, 2, 5 }, x.t().contiguous().ToArray<long>());
        Assert.Equal(new long[] { 0, 3, 1, 4, 2, 5 }, x.transpose(0, 1).reshape(-1).ToArray<long>());
        Assert.Equal(new long[] { 3, 2 }, x.permute(1, 0).shape);
        Assert.Equal(new long[] { 3, 2 }, x.view(3, 2).shape);
        Assert.Throws<TorchException>(() => x.t().view(6)); // not viewable: needs reshape
        Assert.Equal(new long[] { 6 }, x.flatten().shape);
        Assert.Equal(new long[] { 2, 1, 3 }, x.unsqueeze(1).shape);
        Assert.Equal(new long[] { 2, 3 }, x.unsqueeze(0).squeeze(0).shape);
        Assert.Equal(new long[] { 3 }, zeros(1, 3, 1).squeeze().shape);
        Assert.Equal(new long[] { 0, 1, 2, 0, 1, 2 }, tensor(new long[] { 0, 1, 2 }).repeat(2).ToArray<long>());
        Assert.Equal(new long[] { 2, 6 }, x.repeat(1, 2).shape);
        Assert.Equal(new long[] { 0, 0, 1, 1 }, tensor(new long[] { 0, 1 }, [2, 1]).expand(2, 2).reshape(-1).ToArray<long>());
        Assert.Equal(new long[] { 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5 }, cat([x, x]).reshape(-1).ToArray<long>());
        Assert.Equal(new long[] { 2, 6 }, cat([x, x], 1).shape);
        Assert.Equal(new long[] { 2, 2, 3 }, stack([x, x]).shape);
        Assert.Equal(new long[] { 2, 3, 2 }, stack([x, x], -1).shape);
        var parts = arange(5).split(2);
        Assert.Equal(3, parts.Length);
        Assert.Equal(new long[] { 4 }, parts[2].ToArray<long>());
        var sized = arange(5).split([1, 4]);
        Assert.Equal(new long[] { 1, 2, 3, 4 }, sized[1].ToArray<long>());
        var chunks = arange(6).chunk(4); // ceil(6/4) = 2 per chunk → 3 chunks, as PyTorch
        Assert.Equal(3, chunks.Length);
        Assert.Equal(new long[] { 4, 5 }, chunks[2].ToArray<long>());
        Assert.Equal(new long[] { 1, 2, 4, 5 }, x.narrow(1, 1, 2).reshape(-1).ToArray<long>());
        Assert.Equal(new long[] { 3, 4, 5 }, x.unbind()[1].ToArray<long>());
        Assert.Equal(new long[] { 3, 4, 5, 0, 1, 2 }, x.flip(0).reshape(-1).ToArray<long>());
        Assert.Equal(new long[] { 5, 4, 3, 2, 1, 0 }, x.flip(0, 1).reshape(-1).ToArray<long>());
        var sq = tensor(new long[] { 1, 2, 3, 4 }, [2, 2]);
        Assert.Equal(new long[] { 2, 4, 1, 3 }, sq.rot90().reshape(-1).ToArray<long>());
        Assert.Equal(new long[] { 4, 3, 2, 1 }, sq.rot90(2).reshape(-1).ToArray<long>());
        Assert.Equal(new long[] { 3, 1, 4, 2 }, sq.rot90(-1).reshape(-1).ToArray<long>());
        Assert.Equal(new long[] { 3, 1, 4, 2 }, sq.rot90(1, 1, 0).reshape(-1).ToArray<long>());
        Assert.Equal(new long[] { 1, 4 }, sq.diagonal().ToArray<long>());
        Assert.Equal(new long[] { 1, 2, 0, 4 }, sq.triu().reshape(-1).ToArray<long>());
        Assert.Equal(new long[] { 1, 0, 3, 4 }, sq.tril().reshape(-1).ToArray<long>());
    }

    [Fact]
    public void GatherScatterAndMasks()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        var idx = tensor(new long[,] { { 2, 0 }, { 1, 1 } });
        AssertTensor(x.gather(1, idx), [2, 2], D(3, 1, 5, 5));
        AssertTensor(x.take_along_dim(idx, 1), [2, 2], D(3, 1, 5, 5));
        AssertTensor(x.index_select(1, tensor(new long[] { 2, 0 })), [2, 2], D(3, 1, 6, 4));
        AssertTensor(x.index_select(0, tensor(new long[] { 1 })), [1, 3], D(4, 5, 6));
        AssertTensor(zeros([2, 3], float64).scatter(1, tensor(new long[,] { { 2 }, { 0 } }), tensor(new double[,] { { 7 }, { 8 } })), [2, 3], D(0, 0, 7, 8, 0, 0));
        AssertTensor(zeros([3], float64).scatter_add(0, tensor(new long[] { 0, 2, 0 }), tensor(new[] { 1.0, 2, 3 })), D(4, 0, 2));
        var mask = x > 3;
        AssertTensor(x.masked_fill(mask, -1), [2, 3], D(1, 2, 3, -1, -1, -1));
        AssertTensor(x.masked_select(mask), D(4, 5, 6));
        var y = x.clone();
        y.masked_fill_(x < 2, 0);
        AssertTensor(y, [2, 3], D(0, 2, 3, 4, 5, 6));
        AssertTensor(x.index(tensor(new long[] { 1, 1 })), [2, 3], D(4, 5, 6, 4, 5, 6));
        AssertTensor(x.index(tensor(new long[] { 0 }), -1), [2, 1], D(1, 4)); // negative dims count from the end
        var z = zeros([2, 3], float64);
        z.index_put_(tensor(new long[] { 2 }), tensor(new[] { 9.0 }), dim: -1);
        AssertTensor(z, [2, 3], D(0, 0, 9, 0, 0, 9));
        var oh = F.one_hot(tensor(new long[] { 0, 2 }), 3);
        Assert.Equal(new long[] { 1, 0, 0, 0, 0, 1 }, oh.reshape(-1).ToArray<long>());
        Assert.Equal(new long[] { 2, 4 }, F.one_hot(tensor(new long[] { 0, 3 })).shape);
    }

    // ---------------- nn.functional ----------------
    [Fact]
    public void Convolutions()
    {
        using var scope = NewDisposeScope();
        var x = arange(9).to(float64).reshape(1, 1, 3, 3); // 0..8
        var w = ones([1, 1, 2, 2], float64);
        AssertTensor(F.conv2d(x, w), [1, 1, 2, 2], D(8, 12, 20, 24));
        AssertTensor(F.conv2d(x, w, tensor(new[] { 1.0 })), [1, 1, 2, 2], D(9, 13, 21, 25));
        AssertTensor(F.conv2d(x, w, stride: 2, padding: 1), [1, 1, 2, 2], D(0, 3, 9, 24));
        AssertTensor(F.conv2d(x, w, dilation: 2), [1, 1, 1, 1], D(0 + 2 + 6 + 8));
        // groups: two channels, each with its own kernel
        var x2 = cat([x, x * 10], 1);
        var wg = cat([w, w * 2]);
        AssertTensor(F.conv2d(x2, wg, groups: 2), [1, 2, 2, 2], D(8, 12, 20, 24, 160, 240, 400, 480));
        // conv_transpose2d of a single 1 with a 2×2 kernel stride 2 places the kernel
        var one = tensor(new[] { 1.0, 0, 0, 0 }, [1, 1, 2, 2]);
        var k = tensor(new[] { 1.0, 2, 3, 4 }, [1, 1, 2, 2]);
        AssertTensor(F.conv_transpose2d(one, k, stride: 2), [1, 1, 4, 4], D(1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        AssertTensor(F.conv_transpose2d(one, k), [1, 1, 3, 3], D(1, 2, 0, 3, 4, 0, 0, 0, 0));
        Assert.Equal(new long[] { 1, 1, 3, 3 }, F.conv_transpose2d(one, k, stride: 2, padding: 1, outputPadding: 1).shape);
    }

    [Fact]
    public void Pooling()
    {
        using var scope = NewDisposeScope();
        var x = arange(16).to(float64).reshape(1, 1, 4, 4); // 0..15
        AssertTensor(F.max_pool2d(x, 2), [1, 1, 2, 2], D(5, 7, 13, 15));
        AssertTensor(F.avg_pool2d(x, 2), [1, 1, 2, 2], D(2.5, 4.5, 10.5, 12.5));
        AssertTensor(F.max_pool2d(x, 3, stride: 1), [1, 1, 2, 2], D(10, 11, 14, 15));
        AssertTensor(F.max_pool2d(x, 2, stride: 2, padding: 1), [1, 1, 3, 3], D(0, 2, 3, 8, 10, 11, 12, 14, 15));
        AssertTensor(F.avg_pool2d(x, 2, stride: 2, padding: 1), [1, 1, 3, 3], D(0, 0.75, 0.75, 3, 7.5, 4.5, 3, 6.75, 3.75));
        AssertTensor(F.avg_pool2d(x, 2, stride: 2, padding: 1, countIncludePad: false), [1, 1, 3, 3], D(0, 1.5, 3, 6, 7.5, 9, 12, 13.5, 15));
        AssertTensor(F.max_pool2d(x[.., .., ..3, ..3], 2, ceilMode: true), [1, 1, 2, 2], D(5, 6, 9, 10));
        AssertTensor(F.adaptive_avg_pool2d(x, 1, 1), [1, 1, 1, 1], D(7.5));
        AssertTensor(F.adaptive_avg_pool2d(x, 2, 2), [1, 1, 2, 2], D(2.5, 4.5, 10.5, 12.5));
        AssertTensor(F.adaptive_avg_pool2d(x[.., .., 0, ..].unsqueeze(2), 1, 3), [1, 1, 1, 3], D(0.5, 1.5, 2.5)); // overlapping bins of 4 → 3
    }

    [Fact]
    public void Normalisation()
    {
        using var scope = NewDisposeScope();
        var r = Math.Sqrt(1.5);
        AssertTensor(F.layer_norm(tensor(new[] { 1.0, 2, 3 }, [1, 3]), [3], eps: 0), [1, 3], D(-1 / Math.Sqrt(2.0 / 3), 0, 1 / Math.Sqrt(2.0 / 3)));
        AssertTensor(F.layer_norm(tensor(new[] { 1.0, 2, 3 }, [1, 3]), [3], tensor(new[] { 2.0, 2, 2 }), tensor(new[] { 1.0, 1, 1 }), eps: 0), [1, 3],
            D(1 - 2 * r, 1, 1 + 2 * r));
        // batch norm [N=2, C=1, 2]: values 1, 3, 5, 7: mean 4, biased var 5, unbiased var 20/3
        var x = tensor(new[] { 1.0, 3, 5, 7 }, [2, 1, 2]);
        var rm = zeros([1], float64);
        var rv = ones([1], float64);
        var y = F.batch_norm(x, rm, rv, training: true, momentum: 0.1, eps: 0);
        AssertTensor(y, [2, 1, 2], D(-3 / Math.Sqrt(5), -1 / Math.Sqrt(5), 1 / Math.Sqrt(5), 3 / Math.Sqrt(5)));
        AssertTensor(rm, D(0.4));
        AssertTensor(rv, D(0.9 + 0.1 * 20.0 / 3));
        var e = F.batch_norm(x, tensor(new[] { 1.0 }), tensor(new[] { 4.0 }), tensor(new[] { 3.0 }), tensor(new[] { 0.5 }), training: false, eps: 0);
        AssertTensor(e, [2, 1, 2], D(0.5, 3.5, 6.5, 9.5));
        Assert.Throws<TorchException>(() => F.batch_norm(x, null, null, training: false));
    }

    [Fact]
    public void Activations()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { -1.0, 0, 2 });
        AssertTensor(F.leaky_relu(x, 0.1), D(-0.1, 0, 2));
        AssertTensor(F.leaky_relu(x), D(-0.01, 0, 2));
        AssertTensor(F.elu(x), D(Math.Exp(-1) - 1, 0, 2));
        AssertTensor(F.elu(x, 2), D(2 * (Math.Exp(-1) - 1), 0, 2));
        AssertTensor(F.softplus(x), D(Math.Log(1 + Math.Exp(-1)), Math.Log(2), Math.Log(1 + Math.Exp(2))));
        AssertTensor(F.softplus(x, 2), D(Math.Log(1 + Math.Exp(-2)) / 2, Math.Log(2) / 2, Math.Log(1 + Math.Exp(4)) / 2));
        AssertTensor(F.softplus(tensor(new[] { 30.0 })), D(30)); // above the threshold: identity
        AssertTensor(F.hardtanh(x, -0.5, 1), D(-0.5, 0, 1));
        AssertTensor(F.gelu(tensor(new[] { 1.0 })), D(0.5 * (1 + SpecialErf(1 / Math.Sqrt(2)))), 1e-6);
        AssertTensor(F.softmax(tensor(new[] { 0.0, Math.Log(3) }), 0), D(0.25, 0.75));
        AssertTensor(F.softmax(tensor(new double[,] { { 0, 0 }, { 0, Math.Log(3) } }), 1), [2, 2], D(0.5, 0.5, 0.25, 0.75));
        AssertTensor(F.log_softmax(tensor(new[] { 0.0, Math.Log(3) }), -1), D(Math.Log(0.25), Math.Log(0.75)));
        using var drop = new nn.Dropout(0.5, new Generator(1));
        Assert.Contains(0f, drop.forward(ones(100)).ToArray<float>());
        drop.eval();
        Assert.Equal(Enumerable.Repeat(1f, 100), drop.forward(ones(100)).ToArray<float>());
        var d = F.dropout(ones(1000), 0.5, generator: new Generator(1)).ToArray<float>();
        Assert.All(d, v => Assert.True(v is 0 or 2));
        Assert.InRange(d.Count(v => v == 0), 430, 570);
        AssertTensor(F.dropout(x, 0.0), D(-1, 0, 2));
        AssertTensor(F.dropout(x, 1.0), D(0, 0, 0));
        AssertTensor(F.dropout(x, 0.9, training: false), D(-1, 0, 2));
        Assert.Throws<TorchException>(() => F.dropout(x, 1.5));
    }

    private static double SpecialErf(double x)
    {
        using var t = tensor(new[] { x });
        using var e = t.erf();
        return e.item<double>();
    }

    [Fact]
    public void Losses()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new double[,] { { 0, 0 }, { 0, Math.Log(3) } });
        var target = tensor(new long[] { 0, 1 });
        AssertTensor(F.cross_entropy(logits, target), [], D((Math.Log(2) - Math.Log(0.75)) / 2));
        AssertTensor(F.cross_entropy(logits, target, reduction: nn.Reduction.Sum), [], D(Math.Log(2) - Math.Log(0.75)));
        AssertTensor(F.cross_entropy(logits, target, reduction: nn.Reduction.None), D(Math.Log(2), -Math.Log(0.75)));
        AssertTensor(F.cross_entropy(logits, target, tensor(new[] { 1.0, 3.0 })), [], D((Math.Log(2) - 3 * Math.Log(0.75)) / 4));
        AssertTensor(F.cross_entropy(logits, tensor(new long[] { 0, -100 })), [], D(Math.Log(2)));
        // label smoothing ε: (1 − ε)·CE + ε·mean over classes of −log p
        var eps = 0.2;
        var row1 = (1 - eps) * Math.Log(2) + eps * Math.Log(2);
        var row2 = (1 - eps) * -Math.Log(0.75) + eps * (-Math.Log(0.25) - Math.Log(0.75)) / 2;
        AssertTensor(F.cross_entropy(logits, target, labelSmoothing: eps), [], D((row1 + row2) / 2));
        AssertTensor(F.cross_entropy(logits, tensor(new double[,] { { 1, 0 }, { 0, 1 } })), [], D((Math.Log(2) - Math.Log(0.75)) / 2));
        AssertTensor(F.nll_loss(tensor(new double[,] { { -1, -2 }, { -3, -4 } }), target), [], D(2.5));
        AssertTensor(F.mse_loss(tensor(new[] { 1.0, 2 }), tensor(new[] { 2.0, 4 })), [], D(2.5));
        AssertTensor(F.mse_loss(tensor(new[] { 1.0, 2 }), tensor(new[] { 2.0, 4 }), nn.Reduction.Sum), [], D(5));
        AssertTensor(F.l1_loss(tensor(new[] { 1.0, 2 }), tensor(new[] { 2.0, 4 })), [], D(1.5));
        AssertTensor(F.smooth_l1_loss(tensor(new[] { 1.0, 2 }), tensor(new[] { 1.5, 4 })), [], D((0.5 * 0.25 + 1.5) / 2));
        AssertTensor(F.binary_cross_entropy(tensor(new[] { 0.8, 0.4 }), tensor(new[] { 1.0, 0 })), [], D(-(Math.Log(0.8) + Math.Log(0.6)) / 2));
        AssertTensor(F.binary_cross_entropy_with_logits(tensor(new[] { 0.0, Math.Log(4) }), tensor(new[] { 1.0, 0 })), [],
            D((Math.Log(2) - Math.Log(0.2)) / 2));
        AssertTensor(F.binary_cross_entropy_with_logits(tensor(new[] { 0.0 }), tensor(new[] { 1.0 }), posWeight: tensor(new[] { 3.0 })), [], D(3 * Math.Log(2)));
    }

    [Fact]
    public void Distances()
    {
        using var scope = NewDisposeScope();
        AssertTensor(F.cosine_similarity(tensor(new double[,] { { 1, 0 }, { 1, 1 } }), tensor(new double[,] { { 0, 1 }, { 2, 2 } })), D(0, 1));
        AssertTensor(F.pairwise_distance(tensor(new double[,] { { 0, 0 } }), tensor(new double[,] { { 3, 4 } })), D(5), 1e-5);
        AssertTensor(F.pairwise_distance(tensor(new double[,] { { 0, 0 } }), tensor(new double[,] { { 3, 4 } }), 1), D(7), 1e-5);
        var a = tensor(new double[,] { { 0, 0 }, { 1, 1 } });
        var b = tensor(new double[,] { { 3, 4 }, { 0, 0 }, { 1, 0 } });
        AssertTensor(F.cdist(a, b), [2, 3], D(5, 0, 1, Math.Sqrt(13), Math.Sqrt(2), 1));
        AssertTensor(F.cdist(a, b, 1), [2, 3], D(7, 0, 1, 5, 2, 1));
        // the twice-differentiable path (inputs require grad) gives the same values
        var ag = a.clone().requires_grad_();
        AssertTensor(F.cdist(ag, b), [2, 3], D(5, 0, 1, Math.Sqrt(13), Math.Sqrt(2), 1));
        AssertTensor(F.cdist(ag, b, 1), [2, 3], D(7, 0, 1, 5, 2, 1));
        // at a zero distance the gradient is 0, not NaN
        var g = autograd.grad(F.cdist(ag, b).sum(), [ag])[0];
        Assert.All(g.ToArray<double>(), v => Assert.False(double.IsNaN(v)));
        Assert.Throws<TorchException>(() => F.cdist(ag, zeros([2, 3], float64)));
    }

    [Fact]
    public void InterpolateAndPad()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1.0, 2 }, [1, 1, 1, 2]);
        AssertTensor(F.interpolate(x, 1, 4), [1, 1, 1, 4], D(1, 1, 2, 2));
        AssertTensor(F.interpolate(x, 2.0), [1, 1, 2, 4], D(1, 1, 2, 2, 1, 1, 2, 2));
        AssertTensor(F.interpolate(x, 1, 3, F.InterpolationMode.Bilinear, alignCorners: true), [1, 1, 1, 3], D(1, 1.5, 2));
        AssertTensor(F.interpolate(x, 1, 4, F.InterpolationMode.Bilinear), [1, 1, 1, 4], D(1, 1.25, 1.75, 2));
        var sq = tensor(new[] { 1.0, 2, 3, 4 }, [1, 1, 2, 2]);
        AssertTensor(F.interpolate(sq, 1, 1, F.InterpolationMode.Area), [1, 1, 1, 1], D(2.5));
        AssertTensor(F.pad(x, [1, 2]), [1, 1, 1, 5], D(0, 1, 2, 0, 0));
        AssertTensor(F.pad(x, [0, 0, 1, 0], value: 9), [1, 1, 2, 2], D(9, 9, 1, 2));
        AssertTensor(F.pad(tensor(new[] { 1.0, 2, 3 }, [1, 1, 3]), [2, 1], F.PaddingMode.Reflect), [1, 1, 6], D(3, 2, 1, 2, 3, 2));
        AssertTensor(F.pad(sq, [1, 0, 0, 1], F.PaddingMode.Replicate), [1, 1, 3, 3], D(1, 1, 2, 3, 3, 4, 3, 3, 4));
        AssertTensor(F.pad(sq, [1, 1, 1, 1], F.PaddingMode.Reflect), [1, 1, 4, 4], D(4, 3, 4, 3, 2, 1, 2, 1, 4, 3, 4, 3, 2, 1, 2, 1));
        AssertTensor(F.pad(tensor(new[] { 1.0, 2, 3 }, [1, 1, 3]), [1, 2], F.PaddingMode.Circular), [1, 1, 6], D(3, 1, 2, 3, 1, 2));
        Assert.Throws<TorchException>(() => F.pad(sq, [1, 0], F.PaddingMode.Reflect)); // as PyTorch: 4-D input needs 4 or 6 pads
        AssertTensor(F.pad(sq.view(1, 2, 2), [1, 0], F.PaddingMode.Reflect), [1, 2, 3], D(2, 1, 2, 4, 3, 4));
        // a non-integer scale factor: source positions (dst + ½)/1.5 − ½, as PyTorch's scale_factor (not in/out = 3/4)
        var ramp = tensor(new[] { 0.0, 1, 2 }, [1, 1, 1, 3]);
        AssertTensor(F.interpolate(ramp, (1.0, 1.5), F.InterpolationMode.Bilinear), [1, 1, 1, 4], D(0, 0.5, 7.0 / 6, 11.0 / 6));
        AssertTensor(F.interpolate(ramp, (1.0, 1.5), F.InterpolationMode.Bilinear, alignCorners: true), [1, 1, 1, 4], D(0, 2.0 / 3, 4.0 / 3, 2));
        AssertTensor(F.interpolate(tensor(new[] { 0.0, 1, 2, 3, 4 }, [1, 1, 1, 5]), (1.0, 0.7)), [1, 1, 1, 3], D(0, 1, 2)); // floor(d / 0.7)
        Assert.Throws<TorchException>(() => F.interpolate(ramp, 0.0));
    }

    [Fact]
    public void AffineGridAndGridSample()
    {
        using var scope = NewDisposeScope();
        var identity = tensor(new[] { 1.0, 0, 0, 0, 1, 0 }, [1, 2, 3]);
        // Pixel centres in normalised (x, y): (2i + 1)/W − 1 without align_corners, −1 … 1 with it.
        AssertTensor(F.affine_grid(identity, [1, 1, 2, 2]), [1, 2, 2, 2], D(-0.5, -0.5, 0.5, -0.5, -0.5, 0.5, 0.5, 0.5));
        AssertTensor(F.affine_grid(identity, [1, 1, 1, 3], alignCorners: true), [1, 1, 3, 2], D(-1, 0, 0, 0, 1, 0));
        // The identity grid samples every pixel at its centre: the image comes back unchanged.
        var image = arange(0, 12, 1, ScalarType.Float64).view(1, 1, 3, 4);
        AssertTensor(F.grid_sample(image, F.affine_grid(identity, [1, 1, 3, 4])), [1, 1, 3, 4], image.ToArray<double>());
        // x + 0.5 in normalised units is one pixel of a 4-wide image: output j reads input j + 1; zeros (or the border) beyond.
        var shift = tensor(new[] { 1.0, 0, 0.5, 0, 1, 0 }, [1, 2, 3]);
        var row = tensor(new[] { 1.0, 2, 3, 4 }, [1, 1, 1, 4]);
        AssertTensor(F.grid_sample(row, F.affine_grid(shift, [1, 1, 1, 4])), [1, 1, 1, 4], D(2, 3, 4, 0));
        AssertTensor(F.grid_sample(row, F.affine_grid(shift, [1, 1, 1, 4]), paddingMode: F.GridSamplePaddingMode.Border), [1, 1, 1, 4], D(2, 3, 4, 4));
        // Half a pixel: bilinear averages neighbours; nearest rounds half to even (libtorch's nearbyint).
        var half = tensor(new[] { 1.0, 0, 0.25, 0, 1, 0 }, [1, 2, 3]);
        AssertTensor(F.grid_sample(row, F.affine_grid(half, [1, 1, 1, 4])), [1, 1, 1, 4], D(1.5, 2.5, 3.5, 2));
        AssertTensor(F.grid_sample(row, F.affine_grid(half, [1, 1, 1, 4]), F.GridSampleMode.Nearest), [1, 1, 1, 4], D(1, 3, 3, 0));
        // A batch of maps: each image its own.
        var two = cat([identity, shift], 0);
        AssertTensor(F.grid_sample(cat([row, row], 0), F.affine_grid(two, [2, 1, 1, 4])), [2, 1, 1, 4], D(1, 2, 3, 4, 2, 3, 4, 0));
    }

    [Fact]
    public void LinearAndRecurrentCells()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new double[,] { { 1, 2 } });
        var w = tensor(new double[,] { { 1, 0 }, { 1, 1 }, { 0, -1 } });
        AssertTensor(F.linear(x, w), [1, 3], D(1, 3, -2));
        AssertTensor(F.linear(x, w, tensor(new[] { 1.0, 1, 1 })), [1, 3], D(2, 4, -1));
        // LSTM with zero weights: every gate is σ(0) = ½ and the candidate tanh(0) = 0: c' = ½c, h' = ½ tanh(½c)
        var c = tensor(new double[,] { { 2, -4 } });
        var h = tensor(new double[,] { { 1, 1 } });
        var (h1, c1) = F.lstm_cell(x, (h, c), zeros([8, 2], float64), zeros([8, 2], float64));
        AssertTensor(c1, [1, 2], D(1, -2));
        AssertTensor(h1, [1, 2], D(0.5 * Math.Tanh(1), 0.5 * Math.Tanh(-2)));
        // with the input gate's bias large, the candidate gate's bias b: c' = ½c + σ(big)·tanh(b)
        var bias = tensor(new double[] { 50, 50, 0, 0, 1, 1, 0, 0 }); // gates i, f, g, o
        var (_, c2) = F.lstm_cell(x, (h, c), zeros([8, 2], float64), zeros([8, 2], float64), bias);
        AssertTensor(c2, [1, 2], D(1 + Math.Tanh(1), -2 + Math.Tanh(1)));
        // GRU with zero weights: r = z = ½, n = tanh(0) = 0: h' = ½h
        AssertTensor(F.gru_cell(x, h, zeros([6, 2], float64), zeros([6, 2], float64)), [1, 2], D(0.5, 0.5));
    }

    [Fact]
    public void TorchFunctionsMatchTheMethods()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(9);
        var x = randn([3, 4], g);
        Assert.True(torch.softmax(x, 1).equal(x.softmax(1)));
        Assert.True(torch.log_softmax(x, 0).equal(F.log_softmax(x, 0)));
        Assert.True(torch.std(x, 1).equal(x.std(1)));
        Assert.True(torch.var(x, 0, keepdim: true).equal(x.var(0, keepdim: true)));
        Assert.True(torch.max(x).equal(x.max()));
        Assert.True(torch.max(x, 1).indexes.equal(x.argmax(1)));
        Assert.True(torch.transpose(x, 0, 1).equal(x.t()));
        Assert.True(torch.flip(x, 1).equal(x.flip(1)));
        Assert.Equal(2, torch.chunk(x, 2, 1).Length);
        Assert.True(torch.sign(x).equal(x.sign()));
        Assert.True(torch.cumsum(x, 1)[.., ^1].allclose(x.sum(1)));
    }

    // ---------------- in-place ----------------
    [Fact]
    public void InPlaceOps()
    {
        using var scope = NewDisposeScope();
        var t = tensor(new[] { 1.0, 2 });
        var same = t.add_(tensor(new[] { 1.0, 1 }), alpha: 2).mul_(2).sub_(1);
        Assert.Same(t, same);
        AssertTensor(t, D(5, 7));
        t.div_(tensor(new[] { 5.0, 7 })).add_(1).mul_(3).div_(2).sub_(1);
        AssertTensor(t, D(2, 2));
        t.addcmul_(tensor(new[] { 1.0, 2 }), tensor(new[] { 3.0, 4 }), 0.5);
        AssertTensor(t, D(3.5, 6));
        t.addcdiv_(tensor(new[] { 1.0, 2 }), tensor(new[] { 2.0, 4 }), 2);
        AssertTensor(t, D(4.5, 7));
        t.clamp_(5, 6);
        AssertTensor(t, D(5, 6));
        t.copy_(tensor(new[] { -1.0, 4 }));
        AssertTensor(t, D(-1, 4));
        t.pow_(2).sqrt_().neg_();
        AssertTensor(t, D(-1, -4));
        t.relu_();
        AssertTensor(t, D(0, 0));
        t.fill_(3).exp_();
        AssertTensor(t, D(Math.Exp(3), Math.Exp(3)));
        t.copy_(tensor(new[] { 0.0, 0.5204998778130465 })).erfinv_(); // erf(0.5)
        AssertTensor(t, D(0, 0.5));
        t.zero_();
        AssertTensor(t, D(0, 0));
        var view = t[1..];
        view.fill_(9); // a view writes through
        AssertTensor(t, D(0, 9));
        var leaf = ones(2).requires_grad_();
        Assert.Throws<TorchException>(() => leaf.add_(1)); // a leaf that requires grad cannot be changed in place
        using (no_grad()) leaf.add_(1);                    // … except under no_grad
        AssertTensor(leaf, D(2, 2));
    }
}

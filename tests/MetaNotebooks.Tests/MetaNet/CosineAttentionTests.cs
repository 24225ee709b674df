using MetaNotebooks.Algorithms.MetaNet;

namespace MetaNotebooks.Tests.MetaNet;

/// <summary>The memory read (docs/metanet.md §2.6, §5, §10.3–§10.4).</summary>
public class CosineAttentionTests
{
    [Fact]
    public void ZeroVectorsScoreZeroNotNaN()
    {
        using var scope = NewDisposeScope();
        var keys = tensor(new float[,] { { 0, 0, 0 }, { 1, 2, 3 } });
        var queries = tensor(new float[,] { { 0, 0, 0 }, { 3, 2, 1 } });
        var a = CosineAttention.Scores(queries, keys).ToArray<float>();
        Assert.All(a, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(0, a[0]);
        Assert.Equal(0, a[1]);
        Assert.Equal(0, a[2]);
        Assert.Equal(10 / Math.Sqrt(14.0 * 14.0 + 1e-6), a[3], 6);   // ε inside the root, on the product of squared norms
        var one = CosineAttention.ReadOne(zeros(3), keys, eye(2));
        Assert.Equal(new[] { 0.5f, 0.5f }, one.ToArray<float>());    // softmax of two zeros
    }

    [Fact]
    public void IdenticalKeysReadTheMeanOfTheMemory()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var keys = randn([1, 16], g).expand(4, 16);
        var memory = randn([4, 100], g);
        var queries = randn([6, 16], g);
        var p = CosineAttention.Weights(queries, keys);
        Assert.True(p.allclose(full([6, 4], 0.25), 0, 1e-6));
        var read = CosineAttention.Read(p, memory);
        Assert.True(read.allclose(memory.mean(0, keepdim: true).expand(6, 100), 1e-5, 1e-6));
    }

    [Fact]
    public void WithOneSupportExampleEveryQueryReadsIt()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(4);
        var memory = randn([1, 50], g);
        var read = CosineAttention.Read(CosineAttention.Weights(randn([5, 8], g), randn([1, 8], g)), memory);
        Assert.True(read.allclose(memory.expand(5, 50)));
    }

    [Fact]
    public void BatchedReadEqualsThePerQueryLoop()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(5);
        var keys = randn([7, 12], g, ScalarType.Float64);
        var queries = randn([9, 12], g, ScalarType.Float64);
        var memory = randn([7, 300], g, ScalarType.Float64);
        var batched = CosineAttention.Read(CosineAttention.Weights(queries, keys), memory);
        var loop = stack(Enumerable.Range(0, 9).Select(j => CosineAttention.ReadOne(queries[j], keys, memory)).ToArray(), 0);
        Assert.True(batched.allclose(loop, 1e-12, 1e-12));
    }
}

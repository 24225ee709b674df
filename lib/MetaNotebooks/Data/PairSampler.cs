using MetaNotebooks.Torch;

namespace MetaNotebooks.Data;

/// <summary>A batch of image pairs: x₁ [n, C, H, W], x₂ [n, C, H, W] and whether each pair shows the same class, [n] float32 (1 or 0).</summary>
public sealed record PairBatch(Tensor First, Tensor Second, Tensor Same) : IDisposable
{
    public int Count => (int)Same.size(0);

    public void Dispose()
    {
        First.Dispose();
        Second.Dispose();
        Same.Dispose();
    }
}

/// <summary>
/// Balanced same/different pairs from a <see cref="ClassIndexedDataset"/>, the training data of a verification
/// network (Koch et al. 2015 sample random same and different pairs in equal numbers). Pair i of a batch is a "same"
/// pair when i is even: a uniform class and two distinct images of it; otherwise a "different" pair: two distinct
/// uniform classes and a uniform image of each. Seeded like <see cref="EpisodeSampler"/>: one libtorch generator, so the
/// same seed gives the same pairs on any machine.
/// </summary>
public sealed class PairSampler : IDisposable
{
    private readonly ClassIndexedDataset data;
    private readonly Generator generator;

    public PairSampler(ClassIndexedDataset data, ulong seed)
    {
        if (data.ClassCount < 2) throw new ArgumentException($"different pairs need two classes; {data.Name} has {data.ClassCount}.");
        if (data.MinClassSize < 2) throw new ArgumentException($"same pairs need two images per class; the smallest class of {data.Name} has {data.MinClassSize}.");
        this.data = data;
        generator = new Generator(seed);
    }

    public ClassIndexedDataset Dataset => data;

    /// <summary>`pairs` pairs (an even number: half same, half different), as model input.</summary>
    public PairBatch Sample(int pairs)
    {
        if (pairs < 2 || pairs % 2 != 0) throw new ArgumentOutOfRangeException(nameof(pairs), pairs, "an even number of pairs ≥ 2 (half same, half different)");
        double[] u;
        using (var r = torch.rand([pairs * 4], generator, ScalarType.Float64)) u = r.ToArray<double>();
        var first = new long[pairs];
        var second = new long[pairs];
        var same = new float[pairs];
        int classes = data.ClassCount;
        for (var i = 0; i < pairs; i++)
        {
            var (a, b, c, d) = (u[4 * i], u[4 * i + 1], u[4 * i + 2], u[4 * i + 3]);
            var c1 = Pick(a, classes);
            if (i % 2 == 0)
            {
                // Two distinct images of one class: the second is drawn from the other count − 1 and shifted past the first.
                var n1 = data.Count(c1);
                var j1 = Pick(b, n1);
                var j2 = Pick(c, n1 - 1);
                if (j2 >= j1) j2++;
                (first[i], second[i], same[i]) = (data.Offset(c1) + j1, data.Offset(c1) + j2, 1);
            }
            else
            {
                var c2 = Pick(b, classes - 1);
                if (c2 >= c1) c2++;
                (first[i], second[i], same[i]) = (data.Offset(c1) + Pick(c, data.Count(c1)), data.Offset(c2) + Pick(d, data.Count(c2)), 0);
            }
        }
        using var scope = torch.NewDisposeScope();
        var batch = new PairBatch(Gather(first), Gather(second), torch.tensor(same));
        batch.First.MoveToOuterDisposeScope();
        batch.Second.MoveToOuterDisposeScope();
        batch.Same.MoveToOuterDisposeScope();
        return batch;
    }

    private static int Pick(double u, int n) => Math.Min((int)(u * n), n - 1);

    private Tensor Gather(long[] rows)
    {
        var picked = data.Images.index_select(0, torch.tensor(rows));
        return data.Transform is null ? picked : data.Transform(picked);
    }

    public void Dispose() => generator.Dispose();
}

using MetaNotebooks.Data;

namespace MetaNotebooks.Tests.Data;

/// <summary>Balanced pairs, class subsets and per-class splits, zero-shot episodes: on toy datasets whose pixels name their image.</summary>
public class PairSamplerTests
{
    /// <summary>`classes` classes of varying size; image r is a 1×1×1 tensor holding r, so a drawn image tells its row.</summary>
    private static ClassIndexedDataset Toy(int classes = 5)
    {
        var counts = Enumerable.Range(0, classes).Select(c => 3 + c).ToArray();
        var n = counts.Sum();
        return new ClassIndexedDataset("toy", arange(n).to(ScalarType.Float32).view(n, 1, 1, 1), Enumerable.Range(0, classes).Select(c => $"c{c}").ToArray(), counts);
    }

    private static int ClassOf(ClassIndexedDataset d, long row) => Enumerable.Range(0, d.ClassCount).First(c => row >= d.Offset(c) && row < d.Offset(c) + d.Count(c));

    [Fact]
    public void PairsAreBalancedSameAndDifferentAndSeeded()
    {
        using var data = Toy();
        using var a = new PairSampler(data, 3);
        using var b = new PairSampler(data, 3);
        var sameSeen = new HashSet<int>();
        for (var round = 0; round < 20; round++)
        {
            using var x = a.Sample(40);
            using var y = b.Sample(40);
            Assert.True(x.First.equal(y.First) && x.Second.equal(y.Second) && x.Same.equal(y.Same));
            var first = x.First.flatten().ToArray<float>().Select(v => (long)v).ToArray();
            var second = x.Second.flatten().ToArray<float>().Select(v => (long)v).ToArray();
            var same = x.Same.ToArray<float>();
            Assert.Equal(20, same.Count(s => s == 1));
            Assert.Equal(20, same.Count(s => s == 0));
            for (var i = 0; i < 40; i++)
            {
                Assert.NotEqual(first[i], second[i]);   // never an image with itself
                Assert.Equal(same[i] == 1, ClassOf(data, first[i]) == ClassOf(data, second[i]));
                if (same[i] == 1) sameSeen.Add(ClassOf(data, first[i]));
            }
        }
        Assert.Equal(5, sameSeen.Count);   // every class is drawn
        using var other = new PairSampler(data, 4);
        using var z = other.Sample(40);
        using var w = new PairSampler(data, 3).Sample(40);
        Assert.False(z.First.equal(w.First));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Sample(7));
    }

    [Fact]
    public void PairsNeedTwoClassesOfTwoImages()
    {
        using var one = new ClassIndexedDataset("one", zeros(4, 1, 1, 1), ["a"], [4]);
        Assert.Throws<ArgumentException>(() => new PairSampler(one, 0));
        using var single = new ClassIndexedDataset("single", zeros(3, 1, 1, 1), ["a", "b"], [2, 1]);
        Assert.Throws<ArgumentException>(() => new PairSampler(single, 0));
    }

    [Fact]
    public void SubsetKeepsTheListedClassesInOrder()
    {
        using var data = Toy();
        using var subset = data.Subset([3, 1]);
        Assert.Equal(new[] { "c3", "c1" }, subset.ClassNames);
        Assert.Equal(6 + 4, subset.ImageCount);
        Assert.Equal(Enumerable.Range(data.Offset(3), 6).Concat(Enumerable.Range(data.Offset(1), 4)).Select(r => (float)r), subset.Images.flatten().ToArray<float>());
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Subset([5]));
        Assert.Throws<ArgumentException>(() => data.Subset([1, 1]));
    }

    [Fact]
    public void SplitEachClassPutsTheFirstImagesOfEveryClassFirst()
    {
        using var data = Toy();
        var (first, rest) = data.SplitEachClass(0.5, "a", "b");
        using var _ = first;
        using var __ = rest;
        for (var c = 0; c < 5; c++)
        {
            var n = data.Count(c);
            Assert.Equal(Math.Max(1, n / 2), first.Count(c));
            Assert.Equal(n, first.Count(c) + rest.Count(c));
            Assert.Equal((float)data.Offset(c), first.Images[first.Offset(c)].item<float>());
            Assert.Equal((float)(data.Offset(c) + first.Count(c)), rest.Images[rest.Offset(c)].item<float>());
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => data.SplitEachClass(1.0, "a", "b"));
    }

    [Fact]
    public void ZeroShotEpisodesHaveQueriesOnly()
    {
        using var data = Toy();
        using var sampler = new EpisodeSampler(data, ways: 3, shots: 0, queries: 2, seed: 5);
        using var batch = sampler.Sample(4, out var classes);
        Assert.Equal(new long[] { 4, 0, 1, 1, 1 }, batch.SupportInputs.shape);
        Assert.Equal(new long[] { 4, 6, 1, 1, 1 }, batch.QueryInputs.shape);
        var rows = batch.QueryInputs.flatten().ToArray<float>().Select(v => (long)v).ToArray();
        var labels = batch.QueryTargets.flatten().ToArray<long>();
        for (var i = 0; i < rows.Length; i++) Assert.Equal(classes[i / 6, labels[i]], ClassOf(data, rows[i]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EpisodeSampler(data, 3, 0, 0, 1));
    }
}

using MetaNotebooks.Data;

namespace MetaNotebooks.Tests.Data;

public class EpisodeSamplerTests
{
    // 12 classes of 30 images [1, 2, 2]; image m of class c holds c·1000 + m in its top-left pixel, so every
    // sampled image says where it came from. The other pixels make rotations visible: [v, 1; 2, 3].
    private static ClassIndexedDataset Numbered(int classes = 12, int perClass = 30)
    {
        var values = new float[classes * perClass * 4];
        for (var c = 0; c < classes; c++)
            for (var m = 0; m < perClass; m++)
            {
                var i = (c * perClass + m) * 4;
                (values[i], values[i + 1], values[i + 2], values[i + 3]) = (c * 1000 + m, -1, -2, -3);
            }
        return new ClassIndexedDataset("numbered", FromData(values, [classes * perClass, 1, 2, 2]),
            Enumerable.Range(0, classes).Select(c => $"class{c}").ToArray(), Enumerable.Repeat(perClass, classes).ToArray());
    }

    [Fact]
    public void ShapesAndLabelLayout()
    {
        using var data = Numbered();
        using var sampler = new EpisodeSampler(data, ways: 5, shots: 2, queries: 3, seed: 1);
        using var scope = NewDisposeScope();
        using var batch = sampler.Sample(4);
        Assert.Equal(new long[] { 4, 10, 1, 2, 2 }, batch.SupportInputs.shape);
        Assert.Equal(new long[] { 4, 15, 1, 2, 2 }, batch.QueryInputs.shape);
        Assert.Equal(ScalarType.Int64, batch.SupportTargets.dtype);
        Assert.Equal(new long[] { 0, 0, 1, 1, 2, 2, 3, 3, 4, 4 }, batch.SupportTargets.narrow(0, 3, 1).ToArray<long>());
        Assert.Equal(new long[] { 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4 }, batch.QueryTargets.narrow(0, 0, 1).ToArray<long>());
    }

    [Fact]
    public void LabelsAreARandomRemappingOfTheTasksClasses()
    {
        using var data = Numbered();
        using var sampler = new EpisodeSampler(data, ways: 5, shots: 2, queries: 3, seed: 3);
        using var scope = NewDisposeScope();
        var classForLabel0 = new HashSet<int>();
        for (var round = 0; round < 20; round++)
        {
            using var batch = sampler.Sample(4, out var classes);
            var xs = batch.SupportInputs.ToArray<float>();
            var xq = batch.QueryInputs.ToArray<float>();
            var ys = batch.SupportTargets.ToArray<long>();
            var yq = batch.QueryTargets.ToArray<long>();
            for (var t = 0; t < 4; t++)
            {
                var taskClasses = Enumerable.Range(0, 5).Select(i => classes[t, i]).ToArray();
                Assert.Equal(5, taskClasses.Distinct().Count());
                classForLabel0.Add(taskClasses[0]);
                var seen = new HashSet<int>();
                // Every image's true class is the class its label stands for, and no image appears twice in a task.
                for (var j = 0; j < 10; j++)
                {
                    var v = (int)xs[(t * 10 + j) * 4];
                    Assert.Equal(taskClasses[ys[t * 10 + j]], v / 1000);
                    Assert.True(seen.Add(v));
                }
                for (var j = 0; j < 15; j++)
                {
                    var v = (int)xq[(t * 15 + j) * 4];
                    Assert.Equal(taskClasses[yq[t * 15 + j]], v / 1000);
                    Assert.True(seen.Add(v));
                }
            }
        }
        // Label 0 is not tied to a class: over 80 tasks it stood for most of the 12.
        Assert.True(classForLabel0.Count >= 10, $"label 0 meant only {classForLabel0.Count} classes");
    }

    [Fact]
    public void TheSameSeedGivesTheSameEpisodes()
    {
        using var data = Numbered();
        using var scope = NewDisposeScope();
        Tensor[] Draw(ulong seed)
        {
            using var sampler = new EpisodeSampler(data, ways: 5, shots: 1, queries: 4, seed: seed);
            var result = new List<Tensor>();
            for (var i = 0; i < 3; i++)
            {
                var b = sampler.Sample(2);
                result.AddRange([b.SupportInputs, b.SupportTargets, b.QueryInputs, b.QueryTargets]);
            }
            return result.ToArray();
        }
        var a = Draw(42);
        var b = Draw(42);
        var c = Draw(43);
        Assert.All(a.Zip(b), p => Assert.True(equal(p.First, p.Second)));
        Assert.False(a.Zip(c).All(p => equal(p.First, p.Second)));
        // Successive batches of one sampler differ.
        Assert.False(equal(a[0], a[4]));
    }

    [Fact]
    public void EveryClassAndImageIsDrawnUniformly()
    {
        using var data = Numbered(classes: 6, perClass: 4);
        using var sampler = new EpisodeSampler(data, ways: 3, shots: 1, queries: 1, seed: 5);
        using var scope = NewDisposeScope();
        var counts = new int[6 * 4];
        for (var i = 0; i < 200; i++)
        {
            using var b = sampler.Sample(10);
            foreach (var v in b.SupportInputs.ToArray<float>().Where((_, k) => k % 4 == 0)) counts[(int)v / 1000 * 4 + (int)v % 1000]++;
        }
        // 6,000 draws over 24 images: 250 each expected.
        Assert.All(counts, n => Assert.InRange(n, 190, 310));
    }

    [Fact]
    public void TheAugmentationSeesWholeClasses()
    {
        using var data = Numbered();
        using var scope = NewDisposeScope();
        using var sampler = new EpisodeSampler(data, ways: 4, shots: 2, queries: 2, seed: 9, augmentation: EpisodeAugmentations.RandomRotationPerClass);
        var turnsSeen = new HashSet<int>();
        for (var round = 0; round < 10; round++)
        {
            using var batch = sampler.Sample(3);
            var xs = batch.SupportInputs.ToArray<float>();
            var xq = batch.QueryInputs.ToArray<float>();
            for (var t = 0; t < 3; t++)
                for (var i = 0; i < 4; i++)
                {
                    // Where the numbered pixel went tells the rotation; support and query of a class agree.
                    var pixels = Enumerable.Range(0, 2).Select(j => Position(xs, (t * 8 + i * 2 + j) * 4))
                        .Concat(Enumerable.Range(0, 2).Select(j => Position(xq, (t * 8 + i * 2 + j) * 4))).Distinct().ToArray();
                    Assert.Single(pixels);
                    turnsSeen.Add(pixels[0]);
                }
        }
        Assert.Equal(4, turnsSeen.Count);

        static int Position(float[] x, int start) => Enumerable.Range(0, 4).Single(k => x[start + k] >= 0);
    }

    [Fact]
    public void ImpossibleEpisodesAreRefused()
    {
        using var data = Numbered(classes: 4, perClass: 5);
        Assert.Throws<ArgumentException>(() => new EpisodeSampler(data, ways: 5, shots: 1, queries: 1, seed: 0));
        var e = Assert.Throws<ArgumentException>(() => new EpisodeSampler(data, ways: 2, shots: 3, queries: 3, seed: 0));
        Assert.Contains("6 images per class", e.Message);
    }
}

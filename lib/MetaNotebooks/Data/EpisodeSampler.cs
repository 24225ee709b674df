using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Data;

/// <summary>
/// Transforms a batch of episodes' images before they are split into support and query. `images` is
/// [tasks, ways, shots + queries, C, H, W] (model input), so a transform can act per class (the same for a class's
/// support and query images, as MAML's rotations) or per image. Use `generator` for randomness, so that the
/// sampler's seed fixes the result.
/// </summary>
public delegate Tensor EpisodeAugmentation(Tensor images, Generator generator);

/// <summary>
/// N-way K-shot tasks with Q queries per class from any <see cref="ClassIndexedDataset"/>, batched over tasks.
/// <para>
/// Each task draws N distinct classes uniformly, then K + Q distinct images of each. The i-th drawn class gets
/// label i: since the classes come in random order, the labels are a random assignment of 0…N−1 to classes, fresh
/// for every task (a learner cannot memorise "class 17 is label 3"). Support and query sets are ordered class by
/// class: support [tasks, N·K, C, H, W] holds class 0's K images, then class 1's, …; labels [tasks, N·K] (int64) are
/// 0…0, 1…1, …; the query set likewise with Q per class.
/// </para>
/// <para>
/// Seeded: the sampler owns a libtorch generator seeded once, so the same seed gives the same sequence of
/// batches on any machine: the draws are uniform doubles from libtorch's CPU generator (mt19937), turned into
/// choices by a partial Fisher–Yates shuffle in C#.
/// </para>
/// </summary>
public sealed class EpisodeSampler : ITaskDistribution, IDisposable
{
    private readonly ClassIndexedDataset data;
    private readonly Generator generator;
    private readonly EpisodeAugmentation? augmentation;
    private readonly int[] classOrder;
    private readonly int[]?[] memberOrder;
    private readonly long[] shape;

    public EpisodeSampler(ClassIndexedDataset data, int ways, int shots, int queries, ulong seed, EpisodeAugmentation? augmentation = null)
    {
        // Zero shots is a zero-shot episode: classes and queries only (the classes are described by metadata instead).
        if (ways < 1 || shots < 0 || queries < 0 || shots + queries < 1)
            throw new ArgumentOutOfRangeException(nameof(ways), $"need ways ≥ 1, shots ≥ 0, queries ≥ 0 and at least one image per class; got {ways}, {shots}, {queries}");
        if (ways > data.ClassCount) throw new ArgumentException($"{ways}-way tasks need {ways} classes; {data.Name} has {data.ClassCount}.");
        if (shots + queries > data.MinClassSize)
            throw new ArgumentException($"{shots} shots + {queries} queries need {shots + queries} images per class; the smallest class of {data.Name} has {data.MinClassSize}.");
        this.data = data;
        this.augmentation = augmentation;
        Ways = ways;
        Shots = shots;
        Queries = queries;
        Seed = seed;
        generator = new Generator(seed);
        classOrder = Enumerable.Range(0, data.ClassCount).ToArray();
        memberOrder = new int[]?[data.ClassCount];
        shape = data.ImageShape;
    }

    public int Ways { get; }
    public int Shots { get; }
    public int Queries { get; }
    public ulong Seed { get; }
    public ClassIndexedDataset Dataset => data;

    /// <summary>A batch of `tasks` episodes: inputs [tasks, N·K or N·Q, C, H, W], targets [tasks, N·K or N·Q] int64.</summary>
    public TaskBatch Sample(int tasks) => Sample(tasks, out _);

    /// <summary>As <see cref="Sample(int)"/>; `classes[t, i]` is the dataset class that has label i in task t.</summary>
    public TaskBatch Sample(int tasks, out int[,] classes)
    {
        if (tasks < 1) throw new ArgumentOutOfRangeException(nameof(tasks), tasks, "at least one task");
        int n = Ways, k = Shots, q = Queries, per = k + q;
        classes = new int[tasks, n];
        var support = new long[tasks * n * k];
        var query = new long[tasks * n * q];
        var joint = augmentation is null ? null : new long[tasks * n * per];

        // One call for all the randomness of the batch: n class draws and n·(k+q) image draws per task.
        double[] u;
        using (var r = torch.rand([tasks * n * (1 + per)], generator, ScalarType.Float64)) u = r.ToArray<double>();
        var next = 0;
        for (var t = 0; t < tasks; t++)
        {
            // Partial Fisher–Yates: positions 0…n−1 become a uniform random ordered choice of n classes. The array
            // stays a permutation between calls, which keeps later draws uniform as well.
            for (var i = 0; i < n; i++)
            {
                var j = i + (int)(u[next++] * (classOrder.Length - i));
                (classOrder[i], classOrder[j]) = (classOrder[j], classOrder[i]);
                classes[t, i] = classOrder[i];
            }
            for (var i = 0; i < n; i++)
            {
                var c = classes[t, i];
                var members = memberOrder[c] ??= Enumerable.Range(0, data.Count(c)).ToArray();
                var offset = data.Offset(c);
                for (var m = 0; m < per; m++)
                {
                    var j = m + (int)(u[next++] * (members.Length - m));
                    (members[m], members[j]) = (members[j], members[m]);
                    var row = offset + members[m];
                    if (joint is not null) joint[(t * n + i) * per + m] = row;
                    else if (m < k) support[(t * n + i) * k + m] = row;
                    else query[(t * n + i) * q + m - k] = row;
                }
            }
        }

        using var scope = torch.NewDisposeScope();
        Tensor xs, xq;
        if (joint is null)
        {
            xs = Gather(support).view([tasks, n * k, .. shape]);
            xq = Gather(query).view([tasks, n * q, .. shape]);
        }
        else
        {
            var all = augmentation!(Gather(joint).view([tasks, n, per, .. shape]), generator);
            xs = all.narrow(2, 0, k).reshape([tasks, n * k, .. shape]);
            xq = all.narrow(2, k, q).reshape([tasks, n * q, .. shape]);
        }
        var batch = new TaskBatch(xs, Labels(tasks, n, k), xq, Labels(tasks, n, q));
        return batch.MoveToOuterDisposeScope();
    }

    private Tensor Gather(long[] rows)
    {
        var picked = data.Images.index_select(0, torch.tensor(rows));
        return data.Transform is null ? picked : data.Transform(picked);
    }

    private static Tensor Labels(int tasks, int ways, int perClass)
    {
        var labels = new long[tasks * ways * perClass];
        for (var i = 0; i < labels.Length; i++) labels[i] = i / perClass % ways;
        return torch.tensor(labels, [tasks, ways * perClass]);
    }

    public void Dispose() => generator.Dispose();
}

/// <summary>Augmentations for <see cref="EpisodeSampler"/>.</summary>
public static class EpisodeAugmentations
{
    /// <summary>
    /// MAML's Omniglot augmentation: each class of each task is rotated by a random multiple of 90° (uniform over
    /// 0°, 90°, 180°, 270°), the same rotation for all its support and query images (Finn et al.'s
    /// data_generator.py draws `rotations` per class per task and applies tf.image.rot90 to every sample of it).
    /// Rotation is counter-clockwise, as PIL's rotate and torch.rot90 over (H, W).
    /// </summary>
    public static Tensor RandomRotationPerClass(Tensor images, Generator generator)
    {
        var s = images.shape; // [tasks, ways, per, C, H, W]
        if (s.Length != 6 || s[4] != s[5]) throw new ArgumentException("RandomRotationPerClass takes square images [tasks, ways, per, C, H, W].");
        using var scope = torch.NewDisposeScope();
        var flat = images.reshape(s[0] * s[1], s[2], s[3], s[4], s[5]).clone();
        var turns = torch.randint(0, 4, [s[0] * s[1]], generator).ToArray<long>();
        for (var k = 1; k < 4; k++)
        {
            var which = Enumerable.Range(0, turns.Length).Where(i => turns[i] == k).Select(i => (long)i).ToArray();
            if (which.Length == 0) continue;
            var index = torch.tensor(which);
            flat.index_put_(index, flat.index_select(0, index).rot90(k, 3, 4));
        }
        return flat.view(s).MoveToOuterDisposeScope();
    }
}

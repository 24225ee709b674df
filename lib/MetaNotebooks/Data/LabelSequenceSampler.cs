using MetaNotebooks.Torch;

namespace MetaNotebooks.Data;

/// <summary>
/// A batch of label sequences: images [B, T, C, H, W], labels [B, T] (int64, 0…classes−1) and, for each step, which
/// presentation of its class it is (1 the first time a class appears in the episode, 2 the second, …) [B, T] (int64).
/// </summary>
public sealed record LabelSequenceBatch(Tensor Images, Tensor Labels, Tensor Instances) : IDisposable
{
    public int Count => (int)Images.size(0);
    public int Steps => (int)Images.size(1);

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
        Instances.Dispose();
    }
}

/// <summary>
/// Santoro et al.'s episodes (§4.1): `classes` classes drawn from the dataset, `perClass` distinct drawings of each,
/// shown in a random order as one sequence of classes·perClass steps (5 × 10 = 50 for the paper's one-hot task). Class
/// labels are a fresh random assignment of 0…classes−1 in every episode (from <see cref="EpisodeSampler"/>, which labels
/// its randomly drawn classes in draw order), so no image–label binding carries over from one episode to the next.
/// <para>
/// Seeded: the classes, drawings, optional augmentation and step order all come from `seed`, so two learners trained
/// with the same seed see the same sequences.
/// </para>
/// </summary>
public sealed class LabelSequenceSampler : IDisposable
{
    private readonly EpisodeSampler episodes;
    private readonly Generator order;

    public LabelSequenceSampler(ClassIndexedDataset data, int classes, int perClass, ulong seed, EpisodeAugmentation? augmentation = null)
    {
        if (classes < 2 || perClass < 1) throw new ArgumentOutOfRangeException(nameof(classes), $"need at least 2 classes and 1 drawing per class; got {classes} and {perClass}");
        episodes = new EpisodeSampler(data, classes, perClass, 0, seed, augmentation);
        order = new Generator(unchecked(seed * 6_364_136_223_846_793_005UL + 1_442_695_040_888_963_407UL));
        (Classes, PerClass) = (classes, perClass);
    }

    public int Classes { get; }
    public int PerClass { get; }
    public int Steps => Classes * PerClass;

    /// <summary>`batch` episodes of <see cref="Steps"/> steps each.</summary>
    public LabelSequenceBatch Sample(int batch)
    {
        using var scope = torch.NewDisposeScope();
        using var drawn = episodes.Sample(batch);                    // class by class: [B, classes·perClass, ...]
        var steps = Steps;
        var rows = new long[batch * steps];
        var instances = new long[batch * steps];
        var seen = new int[Classes];
        for (var b = 0; b < batch; b++)
        {
            var perm = torch.randperm(steps, order).ToArray<long>();
            Array.Clear(seen);
            for (var t = 0; t < steps; t++)
            {
                rows[b * steps + t] = b * steps + perm[t];
                instances[b * steps + t] = ++seen[perm[t] / PerClass];   // EpisodeSampler's labels are position / perClass
            }
        }
        var index = torch.tensor(rows);
        var images = drawn.SupportInputs.flatten(0, 1).index_select(0, index).view([batch, steps, .. drawn.SupportInputs.shape[2..]]);
        var labels = drawn.SupportTargets.flatten().index_select(0, index).view(batch, steps);
        var result = new LabelSequenceBatch(images, labels, torch.tensor(instances, [batch, steps]));
        result.Images.MoveToOuterDisposeScope();
        result.Labels.MoveToOuterDisposeScope();
        result.Instances.MoveToOuterDisposeScope();
        return result;
    }

    public void Dispose()
    {
        episodes.Dispose();
        order.Dispose();
    }
}

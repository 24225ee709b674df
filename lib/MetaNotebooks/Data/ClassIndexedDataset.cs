using MetaNotebooks.Torch;

namespace MetaNotebooks.Data;

/// <summary>
/// Images grouped by class, in memory: what an episode sampler draws from. The images of class c are the rows
/// <c>Offsets[c] … Offsets[c+1]−1</c> of <see cref="Images"/> [n, C, H, W], so a class is a contiguous slice.
/// <see cref="Transform"/>, if set, turns a gathered batch into model input (e.g. uint8 → normalised float), so
/// large datasets can stay uint8 in memory.
/// </summary>
public sealed class ClassIndexedDataset : IDisposable
{
    private readonly int[] offsets;

    /// <param name="name">For messages and figures, e.g. "Omniglot Vinyals train".</param>
    /// <param name="images">[n, C, H, W], class by class; the dataset owns it.</param>
    /// <param name="classNames">One per class, in the order of the images.</param>
    /// <param name="counts">Images per class (sums to n).</param>
    /// <param name="transform">Applied to each gathered batch [..., C, H, W]; null: the images are model input already.</param>
    public ClassIndexedDataset(string name, Tensor images, IReadOnlyList<string> classNames, IReadOnlyList<int> counts, Func<Tensor, Tensor>? transform = null)
    {
        if (images.dim() != 4) throw new ArgumentException($"{name}: images must be [n, C, H, W], got [{string.Join(", ", images.shape)}]");
        if (classNames.Count != counts.Count) throw new ArgumentException($"{name}: {classNames.Count} class names for {counts.Count} classes");
        offsets = new int[counts.Count + 1];
        for (var c = 0; c < counts.Count; c++)
        {
            if (counts[c] <= 0) throw new ArgumentException($"{name}: class {classNames[c]} has no images");
            offsets[c + 1] = offsets[c] + counts[c];
        }
        if (offsets[^1] != images.size(0)) throw new ArgumentException($"{name}: class counts sum to {offsets[^1]} but there are {images.size(0)} images");
        Name = name;
        Images = images.DetachFromDisposeScope();
        ClassNames = classNames;
        Transform = transform;
    }

    public string Name { get; }
    public Tensor Images { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public Func<Tensor, Tensor>? Transform { get; }
    public int ClassCount => ClassNames.Count;
    public int ImageCount => offsets[^1];
    /// <summary>[C, H, W] of one image.</summary>
    public long[] ImageShape => Images.shape[1..];

    public int Offset(int c) => offsets[c];
    public int Count(int c) => offsets[c + 1] - offsets[c];

    /// <summary>The smallest class size (an episode needs shots + queries ≤ this).</summary>
    public int MinClassSize => Enumerable.Range(0, ClassCount).Min(Count);

    /// <summary>The images of class c as model input [count, C, H, W] (a new tensor).</summary>
    public Tensor ClassImages(int c)
    {
        var raw = Images.narrow(0, offsets[c], Count(c));
        return Transform is null ? raw.clone() : Transform(raw);
    }

    /// <summary>
    /// Examples for a figure: `classes` random classes, the first `perClass` images of each (model input,
    /// [classes·perClass, C, H, W], class by class) and each image's class name.
    /// </summary>
    public (Tensor Images, string[] Labels) Samples(int classes, int perClass, ulong seed = 0)
    {
        classes = Math.Min(classes, ClassCount);
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(seed);
        var chosen = torch.randperm(ClassCount, g).ToArray<long>()[..classes];
        var rows = new List<long>();
        var labels = new List<string>();
        foreach (var c in chosen)
            for (var i = 0; i < Math.Min(perClass, Count((int)c)); i++)
            {
                rows.Add(offsets[c] + i);
                labels.Add(ClassNames[(int)c]);
            }
        var picked = Images.index_select(0, torch.tensor(rows.ToArray()));
        var images = Transform is null ? picked : Transform(picked);
        return (images.MoveToOuterDisposeScope(), labels.ToArray());
    }

    /// <summary>
    /// The given classes only (in that order), as a new dataset sharing this one's transform: e.g. the seen classes of a
    /// zero-shot experiment. The images are copied.
    /// </summary>
    public ClassIndexedDataset Subset(IReadOnlyList<int> classes, string? name = null)
    {
        if (classes.Count == 0) throw new ArgumentException($"{Name}: a subset needs at least one class");
        if (classes.Any(c => c < 0 || c >= ClassCount)) throw new ArgumentOutOfRangeException(nameof(classes), $"{Name} has classes 0…{ClassCount - 1}");
        if (classes.Distinct().Count() != classes.Count) throw new ArgumentException($"{Name}: a subset lists a class twice");
        return Select(classes.Select(c => (c, offsets[c], Count(c))).ToArray(), name ?? $"{Name} ({string.Join(", ", classes.Select(c => ClassNames[c]))})");
    }

    /// <summary>
    /// Splits every class's images in two by position: the first ⌊fraction·count⌋ of each class (at least one), and the
    /// rest (at least one). The same images always land on the same side, so a held-out set stays held out.
    /// </summary>
    public (ClassIndexedDataset First, ClassIndexedDataset Remainder) SplitEachClass(double fraction, string firstName, string restName)
    {
        if (!(fraction > 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the fraction must be in (0, 1)");
        if (MinClassSize < 2) throw new InvalidOperationException($"{Name}: every class needs two images to be split; the smallest has {MinClassSize}");
        var cut = Enumerable.Range(0, ClassCount).Select(c => Math.Clamp((int)(fraction * Count(c)), 1, Count(c) - 1)).ToArray();
        var first = Select(Enumerable.Range(0, ClassCount).Select(c => (c, offsets[c], cut[c])).ToArray(), firstName);
        var rest = Select(Enumerable.Range(0, ClassCount).Select(c => (c, offsets[c] + cut[c], Count(c) - cut[c])).ToArray(), restName);
        return (first, rest);
    }

    /// <summary>A new dataset of the rows [start, start + count) of each listed class.</summary>
    private ClassIndexedDataset Select((int Class, int Start, int Count)[] slices, string name)
    {
        using var scope = torch.NewDisposeScope();
        var rows = slices.SelectMany(s => Enumerable.Range(s.Start, s.Count).Select(r => (long)r)).ToArray();
        var images = Images.index_select(0, torch.tensor(rows));
        return new ClassIndexedDataset(name, images, slices.Select(s => ClassNames[s.Class]).ToArray(), slices.Select(s => s.Count).ToArray(), Transform);
    }

    public override string ToString() =>
        $"{Name}: {ClassCount:N0} classes, {ImageCount:N0} images [{string.Join(", ", ImageShape)}] {Images.dtype.TorchName()}";

    public void Dispose() => Images.Dispose();
}

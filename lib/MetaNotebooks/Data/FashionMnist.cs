using MetaNotebooks.Torch;

namespace MetaNotebooks.Data;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul &amp; Vollgraf 2017, Zalando Research, MIT): 70,000 28×28 greyscale photos of clothing
/// in 10 classes, 60,000 for training and 10,000 for testing, in MNIST's IDX format. Debian's package
/// <c>dataset-fashion-mnist</c> installs the four gzipped files under /usr/share/datasets/fashion-mnist/, one of the
/// places <see cref="DataPaths"/> looks (as <c>fashion-mnist/&lt;file&gt;</c>); a copy under data/fashion-mnist/ or
/// --data works too. Images are kept as uint8 (strokes high, as distributed) and become float32 in [0, 1] per batch.
/// </summary>
public static class FashionMnist
{
    /// <summary>The labels 0…9 in the dataset's order.</summary>
    public static readonly string[] ClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    public const string Folder = "fashion-mnist";

    public const string HowToGet =
        "Install Debian's package: `apt-get install dataset-fashion-mnist` (`./mn setup` does it as root), or copy the four files " +
        "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz " +
        "(github.com/zalandoresearch/fashion-mnist, data/fashion/) into data/fashion-mnist/.";

    /// <summary>"train" (60,000 images) or "test" (10,000), grouped by class in label order.</summary>
    public static ClassIndexedDataset Load(string part, DataPaths? paths = null)
    {
        paths ??= DataPaths.Default;
        var prefix = part switch
        {
            "train" => "train",
            "test" => "t10k",
            _ => throw new ArgumentException($"Fashion-MNIST has the parts train and test, not '{part}'."),
        };
        var imagesPath = Locate(paths, $"{prefix}-images-idx3-ubyte");
        var labelsPath = Locate(paths, $"{prefix}-labels-idx1-ubyte");
        var (shape, pixels) = IdxFile.Read(imagesPath);
        var (labelShape, labels) = IdxFile.Read(labelsPath);
        if (shape.Length != 3) throw new InvalidDataException($"{imagesPath}: images must be [n, rows, columns], got [{string.Join(", ", shape)}]. {HowToGet}");
        if (labelShape.Length != 1 || labelShape[0] != shape[0])
            throw new InvalidDataException($"{labelsPath} has [{string.Join(", ", labelShape)}] labels for the {shape[0]:N0} images of {imagesPath}. {HowToGet}");
        var bad = Array.FindIndex(labels, l => l >= ClassNames.Length);
        if (bad >= 0) throw new InvalidDataException($"{labelsPath}: label {labels[bad]} at position {bad:N0} is not a class (0…9). {HowToGet}");

        // Group by class, keeping the files' order within a class, so that class c is one contiguous slice.
        var order = Enumerable.Range(0, labels.Length).OrderBy(i => labels[i]).ToArray();
        var counts = new int[ClassNames.Length];
        foreach (var l in labels) counts[l]++;
        var missing = Enumerable.Range(0, ClassNames.Length).Where(c => counts[c] == 0).ToArray();
        if (missing.Length > 0) throw new InvalidDataException($"{labelsPath}: no images of {string.Join(", ", missing.Select(c => ClassNames[c]))}. {HowToGet}");
        int size = shape[1] * shape[2];
        var sorted = new byte[pixels.Length];
        for (var i = 0; i < order.Length; i++) Buffer.BlockCopy(pixels, order[i] * size, sorted, i * size, size);
        using var scope = torch.NewDisposeScope();
        var images = torch.FromData(sorted, [labels.Length, 1, shape[1], shape[2]]);
        return new ClassIndexedDataset($"Fashion-MNIST {part}", images, ClassNames, counts, ToModelInput);
    }

    /// <summary>uint8 pixels → float32 in [0, 1].</summary>
    public static Tensor ToModelInput(Tensor pixels) => pixels.to(ScalarType.Float32).div_(255);

    private static string Locate(DataPaths paths, string name) =>
        paths.TryFind(Path.Combine(Folder, name + ".gz"), Path.Combine(Folder, name)) is { } found && File.Exists(found)
            ? found
            : throw paths.Missing(Path.Combine(Folder, name + ".gz"), HowToGet);
}

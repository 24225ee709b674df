using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Data;

/// <summary>How uint8 pixels become model input.</summary>
public enum ImageNormalization
{
    /// <summary>x / 255, in [0, 1]: what Ravi &amp; Larochelle's, ProtoNet's and MAML's code feed their networks.</summary>
    UnitRange,
    /// <summary>(x / 255 − mean) / std per channel with ImageNet's statistics (0.485, 0.456, 0.406) / (0.229, 0.224, 0.225), as many later codes.</summary>
    ImageNetMeanStd,
}

/// <summary>
/// Mini-ImageNet in Ravi &amp; Larochelle's split: <c>mini-imagenet/{train,val,test}.csv</c> (<c>filename,label</c>;
/// 64 / 16 / 20 classes of 600 images) plus the images: a folder <c>mini-imagenet/images/</c> of the 60,000 JPEGs
/// (Ravi &amp; Larochelle's images.zip), or MAML's per-class layout <c>mini-imagenet/&lt;split&gt;/&lt;label&gt;/</c>, decoded by
/// libjpeg-turbo. Images of another size are resized to 84×84 with Pillow's LANCZOS, exactly as MAML's
/// <c>proc_images.py</c> does. Each split is cached as uint8 [n, 3, 84, 84] under data/cache, keyed by the
/// CSV's SHA-256 and the listed images' names, sizes and modification times (hashing 60,000 files on every load would
/// cost more than decoding them). Normalisation is applied per batch (<see cref="ClassIndexedDataset.Transform"/>),
/// so the dataset stays uint8 in memory (train: 813 MB instead of 3.3 GB as float).
/// </summary>
public static class MiniImageNet
{
    public static readonly string[] Splits = ["train", "val", "test"];
    public const int ImageSize = 84;

    public const string HowToGet =
        "Mini-ImageNet is derived from ImageNet (ILSVRC-2012) and may be used under ImageNet's terms of access only " +
        "(non-commercial research and education; https://image-net.org/download). Get the split CSVs " +
        "(github.com/twitter-research/meta-learning-lstm, data/miniImagenet/) and Ravi & Larochelle's images " +
        "(images.zip: <filename>.jpg), and place them as mini-imagenet/{train,val,test}.csv and mini-imagenet/images/ " +
        "under data/ or the folder given with --data / MN_DATA. Steps: data/README.md.";

    private static readonly float[] Mean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] Std = [0.229f, 0.224f, 0.225f];

    /// <summary>What a split's CSV lists and how much of it is on disk (for `mn data status`).</summary>
    public sealed record SplitStatus(string Split, string? Csv, string? ImagesDirectory, int Listed, int Present, int Classes);

    public static SplitStatus Status(string split, DataPaths? paths = null)
    {
        paths ??= DataPaths.Default;
        var csv = paths.TryFind(Path.Combine("mini-imagenet", split + ".csv"));
        var dir = paths.TryFind(Path.Combine("mini-imagenet", "images"));
        var perClass = paths.TryFind(Path.Combine("mini-imagenet", split));
        if (csv is null) return new SplitStatus(split, null, dir ?? perClass, 0, 0, 0);
        var rows = ReadCsv(csv);
        var present = dir is null && perClass is null ? 0 : rows.Count(r => Locate(dir, perClass, r).Exists);
        return new SplitStatus(split, csv, dir ?? perClass, rows.Count, present, rows.Select(r => r.Label).Distinct().Count());
    }

    /// <summary>
    /// One split ("train", "val" or "test") as a class-indexed dataset of uint8 images whose batches become float32
    /// input [.., 3, 84, 84] through `normalization`. From the cache when it matches; otherwise decoded (in parallel)
    /// and cached. Missing images raise a <see cref="DataNotFoundException"/> that says how many and which.
    /// </summary>
    public static ClassIndexedDataset Load(string split, ImageNormalization normalization = ImageNormalization.UnitRange, DataPaths? paths = null, TextWriter? log = null)
    {
        if (!Splits.Contains(split)) throw new ArgumentException($"Mini-ImageNet has the splits train, val and test, not '{split}'.");
        paths ??= DataPaths.Default;
        var csv = paths.Find(Path.Combine("mini-imagenet", split + ".csv"), HowToGet);
        var rows = ReadCsv(csv);
        var dir = paths.TryFind(Path.Combine("mini-imagenet", "images"));
        var perClass = paths.TryFind(Path.Combine("mini-imagenet", split));
        if (dir is null && perClass is null) throw paths.Missing(Path.Combine("mini-imagenet", "images"), HowToGet);
        var files = rows.Select(r => Locate(dir, perClass, r)).ToArray();
        dir ??= perClass!;
        var missing = files.Where(f => !f.Exists).Select(f => f.Name).ToArray();
        if (missing.Length > 0)
            throw new DataNotFoundException(
                $"Mini-ImageNet {split}: {missing.Length:N0} of the {rows.Count:N0} images listed in {csv} are missing from {dir} " +
                $"(e.g. {string.Join(", ", missing.Take(3))}{(missing.Length > 3 ? ", …" : "")}).\n{HowToGet}",
                Path.Combine(dir, missing[0]), missing.Length);

        var classes = rows.Select(r => r.Label).Distinct().ToArray();
        var order = rows.Select((r, i) => (r, i)).OrderBy(p => Array.IndexOf(classes, p.r.Label)).ThenBy(p => p.i).Select(p => p.i).ToArray();
        var counts = classes.Select(c => rows.Count(r => r.Label == c)).ToArray();
        var fingerprint = new StringBuilder();
        foreach (var i in order) fingerprint.Append(rows[i].File).Append('\t').Append(files[i].Length).Append('\t').Append(files[i].LastWriteTimeUtc.Ticks).Append('\n');
        var csvSha256 = TensorCache.Sha256(csv);
        if (log is not null && PinnedDataFiles.WarnIfUnpinned($"mini-imagenet/{split}.csv", csv, csvSha256) is { } warning) log.WriteLine($"Mini-ImageNet: {warning}");
        var cache = new TensorCache(paths.CacheDirectory, $"mini-imagenet-{split}", new JsonObject
        {
            ["dataset"] = "mini-imagenet",
            ["split"] = split,
            ["csvSha256"] = csvSha256,
            ["imagesFingerprint"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fingerprint.ToString()))),
            ["imageSize"] = ImageSize,
            ["resizeOtherSizes"] = ResizeFilter.Lanczos.ToString(),
        });

        var name = $"Mini-ImageNet {split}";
        var transform = Normalizer(normalization);
        using var scope = torch.NewDisposeScope();
        var cached = cache.TryLoad(out var problem);
        if (cached is { } hit)
        {
            var images = hit.Tensors.GetValueOrDefault("images");
            var cachedClasses = hit.Content["classes"]?.AsArray().Select(n => (string?)n).ToArray();
            if (images is not null && images.dtype == ScalarType.Byte && images.shape.SequenceEqual(new long[] { rows.Count, 3, ImageSize, ImageSize })
                && cachedClasses is not null && cachedClasses.SequenceEqual(classes))
            {
                log?.WriteLine($"{name}: loaded {rows.Count:N0} images from the cache {DataPaths.Show(cache.TensorPath)}.");
                return new ClassIndexedDataset(name, images, classes, counts, transform);
            }
            problem = "the cached tensors do not match the CSV";
        }
        if (problem is not null) log?.WriteLine($"{name}: the cache is damaged ({problem}); rebuilding it.");

        var decoded = Decode(order.Select(i => files[i].FullName).ToArray(), name, log);
        cache.Save(new Dictionary<string, Tensor> { ["images"] = decoded }, new JsonObject
        {
            ["classes"] = new JsonArray(classes.Select(c => (JsonNode)c).ToArray()),
            ["counts"] = new JsonArray(counts.Select(c => (JsonNode)c).ToArray()),
        });
        log?.WriteLine($"{name}: wrote the cache {DataPaths.Show(cache.TensorPath)}.");
        return new ClassIndexedDataset(name, decoded, classes, counts, transform);
    }

    /// <summary>uint8 → float32 model input for a normalisation.</summary>
    public static Func<Tensor, Tensor> Normalizer(ImageNormalization normalization) => normalization switch
    {
        ImageNormalization.UnitRange => x => x.to(ScalarType.Float32).div_(255),
        ImageNormalization.ImageNetMeanStd => x =>
        {
            using var scope = torch.NewDisposeScope();
            var y = x.to(ScalarType.Float32).div_(255).sub_(torch.tensor(Mean, [3, 1, 1])).div_(torch.tensor(Std, [3, 1, 1]));
            return y.MoveToOuterDisposeScope();
        },
        _ => throw new ArgumentOutOfRangeException(nameof(normalization)),
    };

    /// <summary>Decodes JPEGs (in parallel) into uint8 [n, 3, 84, 84].</summary>
    public static Tensor Decode(IReadOnlyList<string> paths, string name = "Mini-ImageNet", TextWriter? log = null)
    {
        const int pixels = 3 * ImageSize * ImageSize;
        var clock = Stopwatch.StartNew();
        var threads = Environment.ProcessorCount;
        log?.WriteLine($"{name}: decoding {paths.Count:N0} JPEGs with libjpeg-turbo on {threads} threads…");
        var raw = new byte[(long)paths.Count * pixels];
        try
        {
            Parallel.For(0, paths.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            {
                try
                {
                    using var scope = torch.NewDisposeScope();
                    var image = torch.io.decode_jpeg(File.ReadAllBytes(paths[i]));
                    var s = image.shape;
                    if (s[0] == 1) image = image.expand(3, s[1], s[2]);
                    else if (s[0] != 3) throw new InvalidDataException($"expected an RGB or greyscale JPEG, got {s[0]} channels (CMYK?)");
                    if (s[1] != ImageSize || s[2] != ImageSize) image = Resampling.Resize(image.contiguous(), ImageSize, ImageSize, ResizeFilter.Lanczos);
                    image.contiguous().ToArray<byte>().CopyTo(raw, (long)i * pixels);
                }
                catch (Exception e) when (e is TorchException or InvalidDataException)
                {
                    throw new InvalidDataException($"{name}: cannot decode {paths[i]}: {e.Message}. Replace the file with an intact copy.", e);
                }
            });
        }
        catch (AggregateException e)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        var images = torch.FromData(raw, [paths.Count, 3, ImageSize, ImageSize]);
        log?.WriteLine($"{name}: decoded {paths.Count:N0} images in {clock.Elapsed.TotalSeconds:F1} s.");
        return images;
    }

    // images/<file>, else MAML's <split>/<label>/<file>; a missing file is reported under images/ when that exists.
    private static FileInfo Locate(string? images, string? perClass, (string File, string Label) row)
    {
        FileInfo? flat = images is null ? null : new FileInfo(Path.Combine(images, row.File));
        if (flat is { Exists: true } || perClass is null) return flat!;
        var nested = new FileInfo(Path.Combine(perClass, row.Label, row.File));
        return nested.Exists || flat is null ? nested : flat;
    }

    private static List<(string File, string Label)> ReadCsv(string csv)
    {
        var rows = new List<(string, string)>();
        var lines = File.ReadAllLines(csv);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || (i == 0 && line.StartsWith("filename", StringComparison.OrdinalIgnoreCase))) continue;
            var parts = line.Split(',');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new InvalidDataException($"{csv}, line {i + 1}: expected filename,label, got '{line}'");
            rows.Add((parts[0].Trim(), parts[1].Trim()));
        }
        if (rows.Count == 0) throw new InvalidDataException($"{csv} lists no images.");
        return rows;
    }
}

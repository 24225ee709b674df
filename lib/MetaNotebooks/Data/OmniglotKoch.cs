using System.Globalization;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Data;

/// <summary>
/// Which alphabets and drawers go into each part of Koch et al.'s split. Drawers are numbered 1…20 as in the file
/// names (<c>0709_03.png</c> is drawer 3). Null alphabet lists take the defaults described on <see cref="OmniglotKoch"/>.
/// </summary>
public sealed record KochSplit
{
    public IReadOnlyList<int> TrainDrawers { get; init; } = Enumerable.Range(1, 12).ToArray();
    public IReadOnlyList<int> ValidationDrawers { get; init; } = Enumerable.Range(13, 4).ToArray();
    public IReadOnlyList<int> TestDrawers { get; init; } = Enumerable.Range(17, 4).ToArray();
    /// <summary>Null: every alphabet of images_background (30).</summary>
    public IReadOnlyList<string>? TrainAlphabets { get; init; }
    /// <summary>Null: the first 10 alphabets of images_evaluation in ordinal order (Angelic … Keble).</summary>
    public IReadOnlyList<string>? ValidationAlphabets { get; init; }
    /// <summary>Null: the last 10 alphabets of images_evaluation in ordinal order (Malayalam … ULOG).</summary>
    public IReadOnlyList<string>? TestAlphabets { get; init; }

    public static KochSplit Default { get; } = new();
}

/// <summary>
/// Omniglot as Koch, Zemel &amp; Salakhutdinov (2015) use it: the 105×105 drawings as drawn (no resampling), split by
/// alphabet <i>and</i> by drawer into training, validation and test parts.
/// <para>
/// The split. Koch et al. train on 30 alphabets and 12 of the 20 drawers, validate on 10 other alphabets and 4 other
/// drawers, and test on "the last 10 alphabets and 4 drawers", those of Lake et al.'s (2013) one-shot task. Their
/// Omniglot had a 40-alphabet background set and a 10-alphabet evaluation set; the official release has 30 and 20. We
/// keep their counts: training = the 30 background alphabets, drawers 1–12; validation = the first 10 evaluation
/// alphabets in ordinal order (Angelic, Atemayar_Qelisayer, Atlantean, Aurek-Besh, Avesta, Ge_ez, Glagolitic, Gurmukhi,
/// Kannada, Keble), drawers 13–16; test = the last 10 (Malayalam, Manipuri, Mongolian, Old_Church_Slavonic_(Cyrillic),
/// Oriya, Sylheti, Syriac_(Serto), Tengwar, Tibetan, ULOG), drawers 17–20. No alphabet or drawer is in two parts, and
/// every test alphabet is unseen in training, as in the paper. Whether these 10 are exactly Lake et al.'s cannot be
/// checked from the zips (the images of Lake's <c>all_runs.zip</c> are all in images_evaluation, but carry no alphabet
/// names); every test alphabet has at least 20 characters, as the 20-way task needs.
/// </para>
/// <para>
/// Memory: the 105×105 cache is 32,460 drawings × 11 kB = 350 MB of uint8 (1.4 GB as float32). Only the rows of the
/// three parts are kept (about 14,500 drawings, 160 MB), as uint8; <see cref="OmniglotDrawings.Input"/> converts a
/// batch to float when it is used.
/// </para>
/// </summary>
public sealed class OmniglotKoch : IDisposable
{
    public const int ImageSize = Omniglot.SourceSize;

    private OmniglotKoch(OmniglotDrawings train, OmniglotDrawings validation, OmniglotDrawings test) =>
        (Train, Validation, Test) = (train, validation, test);

    public OmniglotDrawings Train { get; }
    public OmniglotDrawings Validation { get; }
    public OmniglotDrawings Test { get; }

    /// <summary>Loads Omniglot at 105×105 (from data/cache, or decodes the zips once and writes the cache) and splits it.</summary>
    public static OmniglotKoch Load(DataPaths? paths = null, TextWriter? log = null, KochSplit? split = null)
    {
        using var omniglot = Omniglot.Load(new OmniglotOptions { ImageSize = ImageSize }, paths, log);
        return From(omniglot, split);
    }

    /// <summary>Koch's split of an already loaded Omniglot (which must be at 105×105; it is not kept).</summary>
    public static OmniglotKoch From(Omniglot omniglot, KochSplit? split = null)
    {
        split ??= KochSplit.Default;
        if (omniglot.Options.ImageSize != ImageSize)
            throw new ArgumentException($"Koch's setting uses the {ImageSize}×{ImageSize} drawings; this Omniglot is {omniglot.Options.ImageSize}×{omniglot.Options.ImageSize}. Load it with new OmniglotOptions {{ ImageSize = {ImageSize} }}.");
        var background = AlphabetsOf(omniglot, Omniglot.Sets[0]);
        var evaluation = AlphabetsOf(omniglot, Omniglot.Sets[1]);
        var train = split.TrainAlphabets ?? background;
        var validation = split.ValidationAlphabets ?? evaluation.Take(evaluation.Count / 2).ToArray();
        var test = split.TestAlphabets ?? evaluation.Skip(evaluation.Count / 2).ToArray();

        var parts = new (string Name, IReadOnlyList<string> Alphabets, IReadOnlyList<int> Drawers)[]
        {
            ("train", train, split.TrainDrawers), ("validation", validation, split.ValidationDrawers), ("test", test, split.TestDrawers),
        };
        foreach (var (name, alphabets, drawers) in parts)
        {
            if (alphabets.Count == 0) throw new ArgumentException($"Koch's {name} part has no alphabets.");
            if (drawers.Count < 2) throw new ArgumentException($"Koch's {name} part needs at least 2 drawers (pairs and trials take two), got {drawers.Count}.");
            if (drawers.Distinct().Count() != drawers.Count || drawers.Any(d => d is < 1 or > Omniglot.DrawingsPerCharacter))
                throw new ArgumentException($"Koch's {name} drawers must be distinct numbers 1…{Omniglot.DrawingsPerCharacter}, got {string.Join(", ", drawers)}.");
            var unknown = alphabets.Where(a => !background.Contains(a) && !evaluation.Contains(a)).ToArray();
            if (unknown.Length > 0) throw new ArgumentException($"Koch's {name} part names alphabets that Omniglot does not have: {string.Join(", ", unknown)}.");
        }
        for (var i = 0; i < parts.Length; i++)
            for (var j = i + 1; j < parts.Length; j++)
            {
                var shared = parts[i].Alphabets.Intersect(parts[j].Alphabets).ToArray();
                if (shared.Length > 0) throw new ArgumentException($"Koch's {parts[i].Name} and {parts[j].Name} parts share alphabets: {string.Join(", ", shared)}.");
                var drawers = parts[i].Drawers.Intersect(parts[j].Drawers).ToArray();
                if (drawers.Length > 0) throw new ArgumentException($"Koch's {parts[i].Name} and {parts[j].Name} parts share drawers: {string.Join(", ", drawers)}.");
            }
        var built = parts.Select(p => OmniglotDrawings.Select(omniglot, $"Omniglot Koch {p.Name}", p.Alphabets, p.Drawers)).ToArray();
        return new OmniglotKoch(built[0], built[1], built[2]);
    }

    /// <summary>The alphabets of one set (images_background or images_evaluation), in ordinal order.</summary>
    public static IReadOnlyList<string> AlphabetsOf(Omniglot omniglot, string set) =>
        omniglot.Characters.Where(c => c.Set == set).Select(c => c.Alphabet).Distinct().Order(StringComparer.Ordinal).ToArray();

    public void Dispose()
    {
        Train.Dispose();
        Validation.Dispose();
        Test.Dispose();
    }
}

/// <summary>
/// Some drawers' drawings of some characters, as uint8 [n, 1, S, S] (strokes 255, background 0), character-major:
/// the drawing of character c by the d-th drawer of <see cref="Drawers"/> is row <c>c · Drawers.Count + d</c>.
/// Characters are grouped by alphabet.
/// </summary>
public sealed class OmniglotDrawings : IDisposable
{
    private readonly int[][] charactersOf;

    public OmniglotDrawings(string name, Tensor images, IReadOnlyList<string> alphabets, IReadOnlyList<string> characterNames,
                            IReadOnlyList<int> characterAlphabet, IReadOnlyList<int> drawers)
    {
        if (images.dtype != ScalarType.Byte || images.dim() != 4 || images.size(1) != 1)
            throw new ArgumentException($"{name}: images must be uint8 [n, 1, H, W], got {images.dtype.TorchName()} [{string.Join(", ", images.shape)}]");
        if (characterNames.Count != characterAlphabet.Count) throw new ArgumentException($"{name}: {characterNames.Count} names for {characterAlphabet.Count} characters");
        if (images.size(0) != (long)characterNames.Count * drawers.Count)
            throw new ArgumentException($"{name}: {characterNames.Count} characters × {drawers.Count} drawers need {characterNames.Count * drawers.Count} images, got {images.size(0)}");
        if (characterAlphabet.Any(a => a < 0 || a >= alphabets.Count)) throw new ArgumentException($"{name}: a character's alphabet index is out of range");
        Name = name;
        Images = images.DetachFromDisposeScope();
        Alphabets = alphabets;
        CharacterNames = characterNames;
        CharacterAlphabet = characterAlphabet;
        Drawers = drawers;
        charactersOf = Enumerable.Range(0, alphabets.Count)
            .Select(a => Enumerable.Range(0, characterNames.Count).Where(c => characterAlphabet[c] == a).ToArray()).ToArray();
        var empty = Enumerable.Range(0, alphabets.Count).Where(a => charactersOf[a].Length == 0).Select(a => alphabets[a]).ToArray();
        if (empty.Length > 0) throw new ArgumentException($"{name}: alphabets without characters: {string.Join(", ", empty)}");
    }

    public string Name { get; }
    /// <summary>uint8 [characters × drawers, 1, S, S], strokes 255.</summary>
    public Tensor Images { get; }
    public IReadOnlyList<string> Alphabets { get; }
    /// <summary>"Alphabet/characterNN" of each character.</summary>
    public IReadOnlyList<string> CharacterNames { get; }
    /// <summary>Index into <see cref="Alphabets"/> of each character.</summary>
    public IReadOnlyList<int> CharacterAlphabet { get; }
    /// <summary>The drawer numbers (1…20) present, in row order within a character.</summary>
    public IReadOnlyList<int> Drawers { get; }
    public int CharacterCount => CharacterNames.Count;
    public int ImageCount => (int)Images.size(0);
    public int ImageSize => (int)Images.size(3);

    /// <summary>The characters (indices) of alphabet a.</summary>
    public IReadOnlyList<int> CharactersOf(int alphabet) => charactersOf[alphabet];

    /// <summary>The row of character c drawn by the d-th drawer of <see cref="Drawers"/>.</summary>
    public long Row(int character, int drawerIndex)
    {
        if ((uint)character >= (uint)CharacterCount || (uint)drawerIndex >= (uint)Drawers.Count)
            throw new ArgumentOutOfRangeException(nameof(character), $"{Name}: no drawing for character {character}, drawer index {drawerIndex}");
        return (long)character * Drawers.Count + drawerIndex;
    }

    /// <summary>Model input for the given rows: float32 [n, 1, S, S] in [0, 1], strokes 1.</summary>
    public Tensor Input(Tensor rows)
    {
        using var scope = torch.NewDisposeScope();
        return Images.index_select(0, rows).to(ScalarType.Float32).div_(255).MoveToOuterDisposeScope();
    }

    public Tensor Input(IReadOnlyList<long> rows)
    {
        using var r = torch.tensor(rows as long[] ?? rows.ToArray());
        return Input(r);
    }

    /// <summary>The given alphabets' characters, drawn by the given drawers (numbers 1…20 from the file names).</summary>
    public static OmniglotDrawings Select(Omniglot omniglot, string name, IReadOnlyList<string> alphabets, IReadOnlyList<int> drawers)
    {
        var alphabetIndex = alphabets.Select((a, i) => (a, i)).ToDictionary(p => p.a, p => p.i);
        var characters = omniglot.Characters.Where(c => alphabetIndex.ContainsKey(c.Alphabet))
            .OrderBy(c => alphabetIndex[c.Alphabet]).ThenBy(c => c.Character, StringComparer.Ordinal).ToArray();
        var rows = new long[characters.Length * drawers.Count];
        for (var c = 0; c < characters.Length; c++)
        {
            var byDrawer = new Dictionary<int, int>();
            for (var f = 0; f < characters[c].Files.Count; f++)
                if (DrawerOf(characters[c].Files[f]) is { } d) byDrawer[d] = f;
            for (var d = 0; d < drawers.Count; d++)
            {
                if (!byDrawer.TryGetValue(drawers[d], out var f))
                    throw new InvalidDataException($"{name}: {characters[c].Name} has no drawing by drawer {drawers[d]} (files {string.Join(", ", characters[c].Files)}).");
                rows[c * drawers.Count + d] = characters[c].First + f;
            }
        }
        using var index = torch.tensor(rows);
        return new OmniglotDrawings(name, omniglot.Images.index_select(0, index), alphabets, characters.Select(c => c.Name).ToArray(),
                                    characters.Select(c => alphabetIndex[c.Alphabet]).ToArray(), drawers);
    }

    /// <summary>The drawer of "IIII_DD.png": DD, or null for another name.</summary>
    public static int? DrawerOf(string file)
    {
        var stem = Path.GetFileNameWithoutExtension(file);
        var cut = stem.LastIndexOf('_');
        return cut >= 0 && int.TryParse(stem[(cut + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d : null;
    }

    public void Dispose() => Images.Dispose();
}

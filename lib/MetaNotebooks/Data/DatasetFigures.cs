using MetaNotebooks.Figures;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Data;

/// <summary>
/// Sample grids of the datasets, for the chapters: Omniglot characters with their rotations, and a few classes of any
/// split (Omniglot or Mini-ImageNet). The pixel data is available on its own (<see cref="GreyImages"/>,
/// <see cref="ColourImages"/>, <see cref="ClassIndexedDataset.Samples"/>) for other plots.
/// </summary>
public static class DatasetFigures
{
    /// <summary>
    /// One row per character (chosen with `seed`): its first drawing at 0°, 90°, 180° and 270° — the four classes the
    /// Vinyals split makes of it. Strokes are drawn dark.
    /// </summary>
    public static Figure OmniglotRotations(Omniglot omniglot, int characters = 6, ulong seed = 0)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(seed);
        var chosen = torch.randperm(omniglot.Characters.Count, g).ToArray<long>()[..Math.Min(characters, omniglot.Characters.Count)]
            .Select(i => omniglot.Characters[(int)i]).ToArray();
        var tiles = new List<Tensor>();
        var labels = new List<string>();
        foreach (var c in chosen)
        {
            var drawing = omniglot.Images.narrow(0, c.First, 1).to(ScalarType.Float32).div_(255);
            for (var k = 0; k < 4; k++)
            {
                tiles.Add(k == 0 ? drawing : drawing.rot90(k, 2, 3));
                labels.Add(k == 0 ? Short(c.Name) : $"{k * 90}°");
            }
        }
        var grid = new ImageGrid(GreyImages(torch.cat(tiles))) { Columns = 4, Labels = labels, Invert = true, Min = 0, Max = 1 };
        return new Figure("Omniglot: each rotation is a class of its own") { Width = 520, Height = 150 * chosen.Length + 80 }.Add(grid);
    }

    /// <summary>
    /// `classes` random classes of a split, `perClass` images each, one row per class, the class name over its first
    /// image. Greyscale images (Omniglot) are drawn with dark strokes; colour images as they are.
    /// </summary>
    public static Figure Samples(ClassIndexedDataset data, int classes = 5, int perClass = 8, ulong seed = 0)
    {
        using var scope = torch.NewDisposeScope();
        var (images, names) = data.Samples(classes, perClass, seed);
        var labels = names.Select((n, i) => i == 0 || names[i - 1] != n ? Short(n) : "").ToArray();
        var rows = labels.Count(l => l.Length > 0);
        ImageGrid grid = images.size(1) == 1
            ? new ImageGrid(GreyImages(images)) { Columns = perClass, Labels = labels, Invert = true, Min = 0, Max = 1 }
            : new ImageGrid(ColourImages(images)) { Columns = perClass, Labels = labels };
        var tile = images.size(2) <= 32 ? 60 : 100;
        return new Figure(data.Name) { Width = Math.Max(420, tile * perClass + 100), Height = (tile + 25) * rows + 100 }.Add(grid);
    }

    /// <summary>Greyscale images [n, 1, H, W] (or [n, H, W]) as n H×W arrays.</summary>
    public static float[][,] GreyImages(Tensor images)
    {
        var s = images.shape;
        if (s.Length == 4 && s[1] == 1) s = [s[0], s[2], s[3]];
        if (s.Length != 3) throw new ArgumentException($"GreyImages takes [n, 1, H, W] or [n, H, W], not [{string.Join(", ", images.shape)}].");
        var values = images.ToArray<float>();
        int n = (int)s[0], h = (int)s[1], w = (int)s[2];
        var result = new float[n][,];
        for (var k = 0; k < n; k++)
        {
            result[k] = new float[h, w];
            Buffer.BlockCopy(values, k * h * w * sizeof(float), result[k], 0, h * w * sizeof(float));
        }
        return result;
    }

    /// <summary>Colour images [n, 3, H, W] as n 3×H×W arrays.</summary>
    public static float[][,,] ColourImages(Tensor images)
    {
        var s = images.shape;
        if (s.Length != 4 || s[1] != 3) throw new ArgumentException($"ColourImages takes [n, 3, H, W], not [{string.Join(", ", s)}].");
        var values = images.ToArray<float>();
        int n = (int)s[0], size = (int)(3 * s[2] * s[3]);
        var result = new float[n][,,];
        for (var k = 0; k < n; k++)
        {
            result[k] = new float[3, s[2], s[3]];
            Buffer.BlockCopy(values, k * size * sizeof(float), result[k], 0, size * sizeof(float));
        }
        return result;
    }

    // "Alphabet_of_the_Magi/character01/rot090" → "Alphabet of the… #01 90°" (fits over a few tiles); wnids stay as they are.
    private static string Short(string name)
    {
        var parts = name.Split('/');
        if (parts.Length < 2) return name;
        var alphabet = parts[0].Replace('_', ' ');
        if (alphabet.Length > 16) alphabet = alphabet[..15].TrimEnd() + "…";
        var s = $"{alphabet} {parts[1].Replace("character", "#")}";
        return parts.Length > 2 && parts[2].StartsWith("rot") ? $"{s} {int.Parse(parts[2][3..])}°" : s;
    }
}

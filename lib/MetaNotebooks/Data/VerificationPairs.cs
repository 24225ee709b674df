using MetaNotebooks.Torch;

namespace MetaNotebooks.Data;

/// <summary>A batch of drawing pairs as rows of an <see cref="OmniglotDrawings"/> and the target, 1 for the same character.</summary>
public sealed record DrawingPairs(long[] First, long[] Second, float[] Same)
{
    public int Count => First.Length;
}

/// <summary>
/// Koch et al.'s verification pairs: same/different pairs of drawings, balanced (half of every batch is "same") and
/// with a uniform number of pairs per alphabet (each pair's alphabet is drawn uniformly). A same pair is one character
/// drawn by two different drawers; a different pair is two different characters of the same alphabet, each by a
/// random drawer, so that the negatives are as hard as the distractors of the within-alphabet one-shot task. Drawn
/// from a libtorch generator (uniform doubles turned into choices here), so a seed fixes the pairs.
/// </summary>
public sealed class VerificationPairs(OmniglotDrawings data)
{
    public OmniglotDrawings Data { get; } = data;

    /// <summary>`count` pairs (an even number): the first half same, the second half different.</summary>
    public DrawingPairs Sample(int count, Generator generator)
    {
        if (count < 2 || count % 2 != 0) throw new ArgumentOutOfRangeException(nameof(count), count, "an even number of pairs ≥ 2 (half same, half different)");
        var drawers = Data.Drawers.Count;
        if (drawers < 2) throw new InvalidOperationException($"{Data.Name}: same pairs need two drawers, there is {drawers}");
        for (var a = 0; a < Data.Alphabets.Count; a++)
            if (Data.CharactersOf(a).Count < 2) throw new InvalidOperationException($"{Data.Name}: alphabet {Data.Alphabets[a]} has one character; different pairs need two");
        double[] u;
        using (var r = torch.rand([count * 5L], generator, ScalarType.Float64)) u = r.ToArray<double>();
        var first = new long[count];
        var second = new long[count];
        var same = new float[count];
        for (var i = 0; i < count; i++)
        {
            var k = i * 5;
            var alphabet = Pick(u[k], Data.Alphabets.Count);
            var characters = Data.CharactersOf(alphabet);
            if (i < count / 2)
            {
                var c = characters[Pick(u[k + 1], characters.Count)];
                var (d1, d2) = TwoDistinct(u[k + 2], u[k + 3], drawers);
                (first[i], second[i], same[i]) = (Data.Row(c, d1), Data.Row(c, d2), 1);
            }
            else
            {
                var (c1, c2) = TwoDistinct(u[k + 1], u[k + 2], characters.Count);
                (first[i], second[i]) = (Data.Row(characters[c1], Pick(u[k + 3], drawers)), Data.Row(characters[c2], Pick(u[k + 4], drawers)));
            }
        }
        return new DrawingPairs(first, second, same);
    }

    private static int Pick(double u, int n) => Math.Min((int)(u * n), n - 1);

    /// <summary>Two distinct indices in 0…n−1, uniformly.</summary>
    private static (int, int) TwoDistinct(double u1, double u2, int n)
    {
        var a = Pick(u1, n);
        var b = Pick(u2, n - 1);
        return (a, b >= a ? b + 1 : b);
    }
}

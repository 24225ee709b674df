using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.Mann;

/// <summary>
/// Santoro et al.'s measure (Table 1): accuracy on the n-th presentation of a class within an episode. The 1st
/// presentation can only be guessed (its label has never been shown), so chance is 1/classes there; from the 2nd on, a
/// learner that bound the label one step after the 1st image can answer it.
/// </summary>
public static class InstanceAccuracy
{
    /// <summary>The presentations the paper's table reports.</summary>
    public static readonly int[] PaperInstances = [1, 2, 3, 4, 5, 10];

    /// <summary>"1st", "2nd", "3rd", "4th", …: the paper's column names.</summary>
    public static string Ordinal(int n) => n + (n % 100 is 11 or 12 or 13 ? "th" : (n % 10) switch { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" });

    /// <summary>
    /// Per episode, the fraction of its steps at presentation n (for each n of `instances`) whose prediction was right:
    /// logits [B, T, classes], labels and instances [B, T] → [B][K]. NaN where an episode has no n-th presentation.
    /// </summary>
    public static double[][] PerEpisode(Tensor logits, Tensor labels, Tensor instances, IReadOnlyList<int> which)
    {
        if (logits.dim() != 3 || !labels.shape.SequenceEqual(logits.shape[..2]) || !instances.shape.SequenceEqual(labels.shape))
            throw new ArgumentException($"InstanceAccuracy: logits must be [B, T, classes] with labels and instances [B, T]; got [{string.Join(", ", logits.shape)}], [{string.Join(", ", labels.shape)}], [{string.Join(", ", instances.shape)}].");
        using var predicted = logits.argmax(2);
        var (p, y, n) = (predicted.ToArray<long>(), labels.ToArray<long>(), instances.ToArray<long>());
        var (batch, steps) = ((int)logits.size(0), (int)logits.size(1));
        var result = new double[batch][];
        for (var b = 0; b < batch; b++)
        {
            result[b] = new double[which.Count];
            for (var k = 0; k < which.Count; k++)
            {
                int right = 0, count = 0;
                for (var t = b * steps; t < (b + 1) * steps; t++)
                {
                    if (n[t] != which[k]) continue;
                    count++;
                    if (p[t] == y[t]) right++;
                }
                result[b][k] = count == 0 ? double.NaN : (double)right / count;
            }
        }
        return result;
    }
}

namespace MetaNotebooks.Results;

/// <summary>Mean and 95% confidence half-width (1.96·σ/√n, σ the sample standard deviation) of n values.</summary>
public sealed record Summary(double Mean, double Ci95, int Count)
{
    public static Summary Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("cannot summarise an empty set of values");
        if (values.Any(v => !double.IsFinite(v))) throw new ArgumentException("values contain NaN or infinity: the run diverged or produced an invalid number");
        var mean = values.Average();
        var variance = values.Count > 1 ? values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1) : 0;
        return new Summary(mean, 1.96 * Math.Sqrt(variance / values.Count), values.Count);
    }

    public override string ToString() => $"{Mean:0.###} ± {Ci95:0.###}";
}

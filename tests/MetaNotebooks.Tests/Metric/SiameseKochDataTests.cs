using MetaNotebooks.Data;
using MetaNotebooks.Experiments;
using MetaNotebooks.Tests.Data;
using Xunit.Abstractions;

namespace MetaNotebooks.Tests.Metric;

/// <summary>Koch's split of the real 105×105 Omniglot, loaded once (the 350 MB cache is built on first use).</summary>
public sealed class OmniglotKochFixture : IDisposable
{
    private readonly Lazy<OmniglotKoch> data = new(() => OmniglotKoch.Load());
    public OmniglotKoch Data => data.Value;

    public void Dispose()
    {
        if (data.IsValueCreated) data.Value.Dispose();
    }
}

/// <summary>Koch et al.'s setting on the real data (skipped, with the reason, when the zips are absent).</summary>
public class SiameseKochDataTests(OmniglotKochFixture fixture, ITestOutputHelper output) : IClassFixture<OmniglotKochFixture>
{
    private const string Bg = OmniglotFixture.Background, Ev = OmniglotFixture.Evaluation;

    [RequiresDataFact(Bg, Ev)]
    public void TheSplitHasKochsAlphabetsAndDrawers()
    {
        var d = fixture.Data;
        Assert.Equal(30, d.Train.Alphabets.Count);
        Assert.Equal(964, d.Train.CharacterCount);
        Assert.Equal(Enumerable.Range(1, 12), d.Train.Drawers);
        Assert.Equal(964 * 12, d.Train.ImageCount);
        Assert.Equal(["Angelic", "Atemayar_Qelisayer", "Atlantean", "Aurek-Besh", "Avesta", "Ge_ez", "Glagolitic", "Gurmukhi", "Kannada", "Keble"], d.Validation.Alphabets);
        Assert.Equal(Enumerable.Range(13, 4), d.Validation.Drawers);
        Assert.Equal(["Malayalam", "Manipuri", "Mongolian", "Old_Church_Slavonic_(Cyrillic)", "Oriya", "Sylheti", "Syriac_(Serto)", "Tengwar", "Tibetan", "ULOG"], d.Test.Alphabets);
        Assert.Equal(Enumerable.Range(17, 4), d.Test.Drawers);
        Assert.Equal(352 * 4, d.Test.ImageCount);
        Assert.Empty(d.Train.Alphabets.Intersect(d.Validation.Alphabets.Concat(d.Test.Alphabets)));
        foreach (var part in new[] { d.Train, d.Validation, d.Test })
        {
            Assert.Equal(ScalarType.Byte, part.Images.dtype);
            Assert.Equal(new long[] { part.ImageCount, 1, 105, 105 }, part.Images.shape);
        }
        // The drawings as drawn: binary, strokes 255 on 0; model input strokes 1.
        using var scope = NewDisposeScope();
        var sample = d.Test.Images.narrow(0, 0, 200);
        Assert.Equal(sample.numel(), (sample.eq(0).sum() + sample.eq(255).sum()).item<long>());
        var input = d.Test.Input(new long[] { 0, 1 });
        Assert.Equal(ScalarType.Float32, input.dtype);
        Assert.Equal(1.0, input.max().item<double>());
        // Ink is the minority of pixels (a few percent).
        Assert.InRange(input.mean().item<double>(), 0.01, 0.2);
    }

    [RequiresDataFact(Bg, Ev)]
    public void BadSplitsAreRejected()
    {
        using var omniglot = Omniglot.Load(new OmniglotOptions { ImageSize = 105 });
        Assert.Contains("share drawers", Assert.Throws<ArgumentException>(() => OmniglotKoch.From(omniglot, new KochSplit { ValidationDrawers = [12, 13] })).Message);
        Assert.Contains("share alphabets", Assert.Throws<ArgumentException>(() => OmniglotKoch.From(omniglot, new KochSplit { TestAlphabets = ["Angelic"] })).Message);
        Assert.Contains("does not have", Assert.Throws<ArgumentException>(() => OmniglotKoch.From(omniglot, new KochSplit { TestAlphabets = ["Klingon"] })).Message);
        Assert.Contains("1…20", Assert.Throws<ArgumentException>(() => OmniglotKoch.From(omniglot, new KochSplit { TestDrawers = [19, 21] })).Message);
        using var small = Omniglot.Load();
        Assert.Contains("105×105", Assert.Throws<ArgumentException>(() => OmniglotKoch.From(small)).Message);
    }

    [RequiresDataFact(Bg, Ev)]
    public void TheTestTrialsAndThePixelBaseline()
    {
        var test = fixture.Data.Test;
        var runs = WithinAlphabetOneShot.Runs(test);
        Assert.Equal(400, runs.Sum(r => r.Ways));
        Assert.All(runs, r =>
        {
            Assert.Equal(20, r.Characters.Distinct().Count());
            Assert.All(r.Characters, c => Assert.Equal(r.Alphabet, test.CharacterAlphabet[c]));
            Assert.NotEqual(test.Drawers[r.TestDrawer], test.Drawers[r.CandidateDrawer]);
            Assert.InRange(test.Drawers[r.TestDrawer], 17, 20);
        });
        Assert.All(Enumerable.Range(0, 10), a => Assert.Equal(2, runs.Count(r => r.Alphabet == a)));
        using var scope = NewDisposeScope();
        var pixels = WithinAlphabetOneShot.Correct(WithinAlphabetOneShot.PixelScores(test, runs));
        var accuracy = 100 * pixels.Average();
        output.WriteLine($"1-NN (Euclidean, 105×105 pixels) on the 400 test trials: {accuracy:0.0}% (Koch's Table 2: 21.7%, chance 5%)");
        // Far above chance; the published 21.7 is Lake et al.'s baseline, whose exact distance is not given (see the result notes).
        Assert.InRange(accuracy, 10, 35);
        // Variants, reported only: which preprocessing would give Lake et al.'s 21.7?
        Tensor Inputs(Func<OneShotRun, long[]> rows) => test.Input(runs.SelectMany(rows).ToArray());
        var (t, c) = (Inputs(r => r.TestRows), Inputs(r => r.CandidateRows));
        foreach (var (name, f) in new (string, Func<Tensor, Tensor>)[]
                 {
                     ("35×35 area (Koch's ÷3)", x => torch.nn.functional.interpolate(x, 35, 35, torch.nn.functional.InterpolationMode.Area)),
                     ("28×28 area", x => torch.nn.functional.interpolate(x, 28, 28, torch.nn.functional.InterpolationMode.Area)),
                     ("105×105 box-blurred 9×9", x => torch.nn.functional.avg_pool2d(x, 9, 1, 4)),
                 })
        {
            var (ft, fc) = (f(t).flatten(1).view(runs.Count, 20, -1), f(c).flatten(1).view(runs.Count, 20, -1));
            var euclid = 100 * WithinAlphabetOneShot.Correct(torch.nn.functional.cdist(ft, fc).neg()).Average();
            var cosine = 100 * WithinAlphabetOneShot.Correct(torch.nn.functional.cosine_similarity(ft.unsqueeze(2), fc.unsqueeze(1), -1)).Average();
            output.WriteLine($"  {name}: Euclidean {euclid:0.0}%, cosine {cosine:0.0}%");
        }
    }

    [RequiresDataFact(Bg, Ev)]
    public void AFewSeededStepsLowerTheLoss()
    {
        set_num_threads(2);
        using var scope = NewDisposeScope();
        using var network = SiameseKoch.NewNetwork(1);
        var config = new SiameseKochConfig { DistortedFraction = 0 };
        using var optimizer = new optim.SGD(network.parameters(), config.LearningRate, config.MomentumStart, weight_decay: config.WeightDecay);
        using var g = new Generator(3);
        var batch = new VerificationPairs(fixture.Data.Train).Sample(16, g);
        var losses = new List<double>();
        for (var step = 0; step < 6; step++)
        {
            using var inner = NewDisposeScope();
            optimizer.zero_grad();
            var loss = SiameseKoch.PairLoss(network, fixture.Data.Train, batch, config, g);
            losses.Add(loss.item<double>());
            loss.backward();
            optimizer.step();
        }
        output.WriteLine($"loss on one batch of 16 pairs: {string.Join(" → ", losses.Select(l => l.ToString("0.0000")))}");
        Assert.True(losses[^1] < losses[0] - 0.01, $"the loss went from {losses[0]:0.0000} to {losses[^1]:0.0000}");
    }
}

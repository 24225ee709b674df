using MetaNotebooks.Data;
using MetaNotebooks.Experiments;
using MetaNotebooks.Models;

namespace MetaNotebooks.Tests.Metric;

/// <summary>
/// Koch et al.'s setting without the real data: the twin CNN's shapes, parameter count and initialisation; the affine
/// distortions; the verification pairs and the 20-way within-alphabet protocol on a synthetic alphabet set.
/// </summary>
public class SiameseKochTests
{
    // ---------------------------------------------------------------- model

    [Fact]
    public void EncoderShapesFollowThePaper()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        using var encoder = new KochEncoder(g);
        using var _ = no_grad();
        var x = rand([2, 1, 105, 105], g);
        var maps = encoder.FeatureMaps(x);
        // conv 10×10 → 96, pool → 48, conv 7×7 → 42, pool → 21, conv 4×4 → 18, pool → 9, conv 4×4 → 6
        long[][] expected = [[2, 64, 96, 96], [2, 64, 48, 48], [2, 128, 42, 42], [2, 128, 21, 21], [2, 128, 18, 18], [2, 128, 9, 9], [2, 256, 6, 6]];
        Assert.Equal(expected.Length, maps.Count);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], maps[i].shape);
        Assert.Equal(9216, maps[^1].flatten(1).size(1));
        var h = encoder.forward(x);
        Assert.Equal(new long[] { 2, 4096 }, h.shape);
        Assert.InRange(h.min().item<double>(), 0, 1); // sigmoid units
        Assert.InRange(h.max().item<double>(), 0, 1);
        Assert.Throws<ArgumentException>(() => encoder.forward(rand([2, 1, 28, 28])));
    }

    [Fact]
    public void ParameterCountAndInitialisation()
    {
        using var scope = NewDisposeScope();
        using var network = SiameseKoch.NewNetwork(1);
        var encoder = network.Encoder;
        long Count(torch.nn.Module m) => m.parameters().Sum(p => p.numel());
        // convs 6,464 + 401,536 + 262,272 + 524,544; FC 9,216·4,096 + 4,096 = 37,752,832; head 4,096 + 1
        Assert.Equal(38_947_648, Count(encoder));
        Assert.Equal(38_951_745, Count(network));
        var named = encoder.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        // The paper: conv weights N(0, 1e-2), biases N(0.5, 1e-2), FC weights N(0, 2e-1) (standard deviations).
        foreach (var conv in new[] { "conv1", "conv2", "conv3", "conv4" })
        {
            AssertMoments(named[$"{conv}.weight"], 0, 1e-2);
            AssertMoments(named[$"{conv}.bias"], 0.5, 1e-2, loose: true);
        }
        AssertMoments(named["fc.weight"], 0, 0.2);
        AssertMoments(named["fc.bias"], 0.5, 1e-2);
        AssertMoments(network.Head.weight, 0, 0.2);
        Assert.InRange(network.Head.bias!.item<double>(), 0.45, 0.55);
    }

    private static void AssertMoments(Tensor t, double mean, double std, bool loose = false)
    {
        var m = t.mean().item<double>();
        var s = t.std().item<double>();
        var tolerance = loose ? 0.3 : 0.05;
        Assert.InRange(m, mean - tolerance * std - 4 * std / Math.Sqrt(t.numel()), mean + tolerance * std + 4 * std / Math.Sqrt(t.numel()));
        Assert.InRange(s, std * (1 - tolerance), std * (1 + tolerance));
    }

    [Fact]
    public void TheHeadIsSymmetric()
    {
        using var scope = NewDisposeScope();
        using var network = SiameseKoch.NewNetwork(2);
        using var g = new Generator(5);
        using var _ = no_grad();
        var a = (rand([2, 1, 105, 105], g) > 0.9).to(ScalarType.Float32);
        var b = (rand([2, 1, 105, 105], g) > 0.9).to(ScalarType.Float32);
        var ab = network.Similarity(a, b).ToArray<float>();
        var ba = network.Similarity(b, a).ToArray<float>();
        Assert.Equal(ab, ba);
    }

    [Fact]
    public void BadInputGetsClearErrors()
    {
        using var temp = new MetaNotebooks.Tests.Data.TempDirectory();
        var missing = Assert.Throws<DataNotFoundException>(() => OmniglotKoch.Load(temp.DataPaths));
        Assert.Contains("images_background.zip", missing.Message);
        Assert.Contains("./mn data download omniglot", missing.Message);
        Assert.Contains("even number", Assert.Throws<ArgumentException>(() => new SiameseKochConfig { BatchPairs = 127 }.Validate()).Message);
        Assert.Contains("at least one minibatch", Assert.Throws<ArgumentException>(() => new SiameseKochConfig { EpochPairs = 64 }.Validate()).Message);
        Assert.Contains("--hours", Assert.Throws<ArgumentException>(() => new SiameseKochConfig { Hours = -1 }.Validate()).Message);
        Assert.Throws<ArgumentException>(() => new SiameseKochConfig { LearningRate = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new SiameseKochConfig { DistortedFraction = 1.5 }.Validate());
        // The schedule: 1% decay per epoch, momentum +0.04 per epoch up to 0.9.
        var c = new SiameseKochConfig();
        Assert.Equal(234, c.StepsPerEpoch);
        Assert.Equal(0.01, c.LearningRateAt(233));
        Assert.Equal(0.0099, c.LearningRateAt(234), 12);
        Assert.Equal(0.54, c.MomentumAt(234), 12);
        Assert.Equal(0.9, c.MomentumAt(234 * 50), 12);
    }

    // ---------------------------------------------------------------- distortions

    private static Tensor Drawing(ulong seed) { using var g = new Generator(seed); return (rand([3, 1, 105, 105], g) > 0.85).to(ScalarType.Float32); }

    [Fact]
    public void DistortionIsTheIdentityAtZeroParameters()
    {
        using var scope = NewDisposeScope();
        var x = Drawing(1);
        var identity = AffineDistortion.Apply(x, [AffineDistortion.Transform.Identity, AffineDistortion.Transform.Identity, AffineDistortion.Transform.Identity]);
        Assert.Equal(x.shape, identity.shape);
        var worst = (identity - x).abs().max().item<double>();
        // Up to float32 rounding of the grid (pixel centres land within 2⁻¹⁶ of the integers).
        Assert.True(worst < 1e-4, $"identity changed a pixel by {worst}");
        // Probability 0: every component left at the identity.
        using var g = new Generator(3);
        var none = new AffineDistortion { Probability = 0 }.Apply(x, g);
        Assert.True((none - x).abs().max().item<double>() < 1e-4);
    }

    [Fact]
    public void DistortionMovesPixelsAsTheMapSays()
    {
        using var scope = NewDisposeScope();
        var x = Drawing(2).narrow(0, 0, 1);
        // Translation by (2, −1) pixels: out[y, x] = in[y + 1, x − 2]; zero (background) where the source is outside.
        var moved = AffineDistortion.Apply(x, [AffineDistortion.Transform.Identity with { TranslateX = 2, TranslateY = -1 }]);
        var expected = zeros_like(x);
        expected.narrow(2, 0, 104).narrow(3, 2, 103).copy_(x.narrow(2, 1, 104).narrow(3, 0, 103));
        Assert.True((moved - expected).abs().max().item<double>() < 1e-4);
        // θ = 90° with y pointing down turns the drawing clockwise: torch.rot90 three quarter-turns over (H, W).
        var turned = AffineDistortion.Apply(x, [AffineDistortion.Transform.Identity with { Rotation = 90 }]);
        Assert.True((turned - x.rot90(3, 2, 3)).abs().max().item<double>() < 1e-4);
        // A scale keeps the centre pixel where it is and the shape of the batch.
        var scaled = AffineDistortion.Apply(x, [AffineDistortion.Transform.Identity with { ScaleX = 1.2, ScaleY = 0.8, ShearX = 0.3 }]);
        Assert.Equal(x.shape, scaled.shape);
        Assert.Equal(x[0, 0, 52, 52].item<float>(), scaled[0, 0, 52, 52].item<float>(), 4);
    }

    [Fact]
    public void SampledTransformsStayInTheirRangesAndAreSeeded()
    {
        using var g1 = new Generator(11);
        using var g2 = new Generator(11);
        var d = AffineDistortion.Koch;
        var a = d.Sample(2000, g1);
        Assert.Equal(a, d.Sample(2000, g2));
        Assert.All(a, t =>
        {
            Assert.InRange(t.Rotation, -10, 10);
            Assert.InRange(t.ShearX, -0.3, 0.3);
            Assert.InRange(t.ShearY, -0.3, 0.3);
            Assert.InRange(t.ScaleX, 0.8, 1.2);
            Assert.InRange(t.ScaleY, 0.8, 1.2);
            Assert.InRange(t.TranslateX, -2, 2);
            Assert.InRange(t.TranslateY, -2, 2);
        });
        // Each component is included with probability ½.
        Assert.InRange(a.Count(t => t.Rotation != 0) / 2000.0, 0.45, 0.55);
        Assert.InRange(a.Count(t => t.ScaleY != 1) / 2000.0, 0.45, 0.55);
        Assert.Throws<ArgumentException>(() => new AffineDistortion { MinScale = 1.5, MaxScale = 1.2 }.Sample(1, g1));
    }

    // ---------------------------------------------------------------- pairs and the one-shot protocol

    /// <summary>10 alphabets of 20–29 characters, 4 drawers, 2×2 drawings whose pixels encode (character, drawer).</summary>
    internal static OmniglotDrawings Synthetic(int alphabets = 10, int drawers = 4, int baseCharacters = 20)
    {
        var names = new List<string>();
        var alphabetOf = new List<int>();
        for (var a = 0; a < alphabets; a++)
            for (var c = 0; c < baseCharacters + a; c++) { names.Add($"A{a}/character{c + 1:D2}"); alphabetOf.Add(a); }
        var pixels = new byte[names.Count * drawers * 4];
        for (var c = 0; c < names.Count; c++)
            for (var d = 0; d < drawers; d++)
            {
                var i = (c * drawers + d) * 4;
                (pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]) = ((byte)(c % 256), (byte)(c / 256), (byte)d, 0);
            }
        return new OmniglotDrawings("synthetic", torch.FromData(pixels, [names.Count * drawers, 1, 2, 2]), Enumerable.Range(0, alphabets).Select(a => $"A{a}").ToArray(),
                                    names, alphabetOf, Enumerable.Range(1, drawers).Select(d => 12 + d).ToArray());
    }

    private static int CharacterOf(OmniglotDrawings d, long row) => (int)(row / d.Drawers.Count);
    private static int DrawerOf(OmniglotDrawings d, long row) => (int)(row % d.Drawers.Count);

    [Fact]
    public void PairsAreBalancedWithinAlphabetAndSeeded()
    {
        using var data = Synthetic();
        var pairs = new VerificationPairs(data);
        using var g = new Generator(7);
        var batch = pairs.Sample(2000, g);
        Assert.Equal(1000, batch.Same.Count(s => s == 1));
        for (var i = 0; i < batch.Count; i++)
        {
            int c1 = CharacterOf(data, batch.First[i]), c2 = CharacterOf(data, batch.Second[i]);
            Assert.Equal(data.CharacterAlphabet[c1], data.CharacterAlphabet[c2]);
            if (batch.Same[i] == 1)
            {
                Assert.Equal(c1, c2);
                Assert.NotEqual(DrawerOf(data, batch.First[i]), DrawerOf(data, batch.Second[i]));
            }
            else Assert.NotEqual(c1, c2);
        }
        // A uniform number of pairs per alphabet (not per character: the alphabets have 20–29 characters).
        var perAlphabet = batch.First.GroupBy(r => data.CharacterAlphabet[CharacterOf(data, r)]).Select(x => x.Count()).ToArray();
        Assert.Equal(10, perAlphabet.Length);
        Assert.All(perAlphabet, n => Assert.InRange(n, 140, 260));
        using var again = new Generator(7);
        Assert.Equal(batch.First, pairs.Sample(2000, again).First);
        Assert.Throws<ArgumentOutOfRangeException>(() => pairs.Sample(3, g));
    }

    [Fact]
    public void TheProtocolIs400TrialsOf20CandidatesWithinOneAlphabet()
    {
        using var data = Synthetic();
        var runs = WithinAlphabetOneShot.Runs(data, seed: 42);
        Assert.Equal(20, runs.Count);
        Assert.Equal(400, runs.Sum(r => r.TestRows.Length));
        Assert.All(Enumerable.Range(0, 10), a => Assert.Equal(2, runs.Count(r => r.Alphabet == a)));
        foreach (var r in runs)
        {
            Assert.Equal(20, r.Ways);
            Assert.Equal(20, r.CandidateRows.Length);
            Assert.Equal(20, r.Characters.Distinct().Count());
            Assert.All(r.Characters, c => Assert.Equal(r.Alphabet, data.CharacterAlphabet[c]));
            Assert.NotEqual(r.TestDrawer, r.CandidateDrawer);
            for (var i = 0; i < 20; i++)
            {
                // Test image i and candidate i are the same character by the run's two drawers.
                Assert.Equal(r.Characters[i], CharacterOf(data, r.TestRows[i]));
                Assert.Equal(r.Characters[i], CharacterOf(data, r.CandidateRows[i]));
                Assert.Equal(r.TestDrawer, DrawerOf(data, r.TestRows[i]));
                Assert.Equal(r.CandidateDrawer, DrawerOf(data, r.CandidateRows[i]));
            }
        }
        // Seeded: the same seed gives the same trials, another seed others.
        Assert.Equal(runs.SelectMany(r => r.TestRows), WithinAlphabetOneShot.Runs(data, seed: 42).SelectMany(r => r.TestRows));
        Assert.NotEqual(runs.SelectMany(r => r.TestRows), WithinAlphabetOneShot.Runs(data, seed: 43).SelectMany(r => r.TestRows));
        // An alphabet with fewer than 20 characters cannot hold a 20-way run.
        using var small = Synthetic(baseCharacters: 15);
        Assert.Contains("need 20 characters per alphabet", Assert.Throws<ArgumentException>(() => WithinAlphabetOneShot.Runs(small)).Message);
    }

    [Fact]
    public void ATrialIsRightWhenItsOwnCandidateScoresHighest()
    {
        using var scope = NewDisposeScope();
        var perfect = eye(20).unsqueeze(0).expand(2, 20, 20).contiguous();
        Assert.All(WithinAlphabetOneShot.Correct(perfect), v => Assert.Equal(1.0, v));
        var shifted = perfect.index_select(2, tensor(Enumerable.Range(0, 20).Select(i => (long)((i + 1) % 20)).ToArray()));
        Assert.All(WithinAlphabetOneShot.Correct(shifted), v => Assert.Equal(0.0, v));
        // Pixel 1-NN on drawings that encode their character: every trial right.
        using var data = Synthetic();
        var runs = WithinAlphabetOneShot.Runs(data);
        using var pixel = WithinAlphabetOneShot.PixelScores(data, runs);
        Assert.Equal(new long[] { 20, 20, 20 }, pixel.shape);
        Assert.All(WithinAlphabetOneShot.Correct(pixel), v => Assert.Equal(1.0, v));
    }
}

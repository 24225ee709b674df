using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Data;
using MetaNotebooks.Experiments;
using MetaNotebooks.Models;
using Xunit.Abstractions;

namespace MetaNotebooks.Tests.Metric;

/// <summary>Zero-shot prototypes: unit length, the few-shot network's scores, and recognition of classes never trained on.</summary>
public class ZeroShotTests(ITestOutputHelper output)
{
    private static ZeroShotPrototypicalNetwork Small(ulong seed, long pixels = 16, long attributes = 4)
    {
        using var g = new Generator(seed);
        return new ZeroShotPrototypicalNetwork(new nn.Sequential(new nn.Flatten(), new Mlp([pixels, 32, 16], g)), new Mlp([attributes, 16], g));
    }

    [Fact]
    public void PrototypesHaveUnitLengthAndScoresAreNegativeSquaredDistances()
    {
        using var scope = NewDisposeScope();
        using var net = Small(1);
        manual_seed(4);
        var attributes = rand(2, 3, 4);                       // [tasks, N, A]
        var queries = rand(2, 5, 1, 4, 4);                    // [tasks, M, C, H, W]
        var c = net.Prototypes(attributes);
        Assert.Equal(new long[] { 2, 3, 16 }, c.shape);
        Assert.True(c.norm(2L).sub(1).abs().max().item<float>() < 1e-5);
        var f = net.EmbedImages(queries);
        Assert.Equal(new long[] { 2, 5, 16 }, f.shape);
        var byHand = -(f.unsqueeze(2) - c.unsqueeze(1)).pow(2).sum(3);
        var scores = net.Scores(queries, attributes);
        Assert.True(scores.allclose(byHand, 1e-4, 1e-4));
        var targets = tensor(new long[] { 0, 1, 2, 0, 1, 2, 2, 1, 0, 0 }, [2, 5]);
        var loss = nn.functional.cross_entropy(byHand.reshape(10, 3), targets.reshape(10));
        Assert.Equal(loss.item<double>(), net.Loss(queries, targets, attributes).item<double>(), 4);
    }

    [Fact]
    public void RecognisesClassesItNeverTrainedOnFromTheirAttributes()
    {
        // Six classes described by 4 binary attributes; an image is a fixed random linear picture of its class's
        // attributes plus noise. Training sees the four one-attribute classes only; the two held-out classes combine
        // two attributes each, so only a model that maps attributes (not class identities) can place them.
        using var scope = NewDisposeScope();
        manual_seed(0);
        var attributes = tensor(new float[] { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1 }, [6, 4]);
        var picture = randn(4, 16);
        Tensor Images(Tensor classes) => (attributes.index_select(0, classes).mm(picture) + 0.3f * randn(classes.size(0), 16)).view(-1, 1, 4, 4);
        using var net = Small(2);
        using var optimizer = new optim.Adam(net.parameters(), 1e-2);
        var seen = tensor(new long[] { 0, 1, 2, 3 });
        for (var step = 0; step < 300; step++)
        {
            using var inner = NewDisposeScope();
            optimizer.zero_grad();
            var labels = randint(0, 4, [1, 32]);
            var loss = net.Loss(Images(labels.flatten()).unsqueeze(0), labels, attributes.index_select(0, seen).unsqueeze(0));
            loss.backward();
            optimizer.step();
        }
        net.eval();
        using var _ = no_grad();
        var testLabels = randint(0, 2, [1, 200]);
        var unseen = tensor(new long[] { 4, 5 });
        var scores = net.Scores(Images(unseen.index_select(0, testLabels.flatten())).unsqueeze(0), attributes.index_select(0, unseen).unsqueeze(0));
        var accuracy = scores.argmax(2).eq(testLabels).to(ScalarType.Float32).mean().item<float>();
        output.WriteLine($"2-way accuracy on the unseen classes: {accuracy:0.000} (chance 0.5)");
        Assert.True(accuracy > 0.9, $"unseen-class accuracy {accuracy:0.000}");
    }

    [Fact]
    public void EveryAttributeVariesAmongTheSeenClasses()
    {
        // Otherwise the attribute encoder gets no training signal for it and an unseen class using it is placed at random.
        var config = new ZeroShotFashionConfig();
        using var a = FashionMnistAttributes.Of(config.Seen);
        Assert.Equal(new long[] { 7, FashionMnistAttributes.Count }, a.shape);
        var spread = (a.amax(0) - a.amin(0)).ToArray<float>();
        Assert.All(spread, s => Assert.True(s > 0));
        Assert.Equal(FashionMnist.ClassNames.Length, FashionMnistAttributes.Values.GetLength(0));
        Assert.Equal(FashionMnistAttributes.Names.Length, FashionMnistAttributes.Values.GetLength(1));
        // No two classes share a description.
        using var all = FashionMnistAttributes.Of();
        Assert.True(nn.functional.cdist(all, all).add(eye(10)).min().item<float>() > 0);
    }

    [Fact]
    public void EpisodeAttributesFollowTheDrawnClasses()
    {
        using var scope = NewDisposeScope();
        var drawn = new int[,] { { 2, 0 }, { 1, 2 } };         // dataset classes; the dataset's classes are Fashion ids 5, 7, 9
        var a = ZeroShotFashion.Attributes(drawn, [5, 7, 9]);
        Assert.Equal(new long[] { 2, 2, FashionMnistAttributes.Count }, a.shape);
        using var expected = FashionMnistAttributes.Of([9, 5, 7, 9]);
        Assert.True(a.reshape(4, -1).equal(expected));
    }
}

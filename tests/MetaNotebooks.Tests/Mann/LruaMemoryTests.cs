using MetaNotebooks.Algorithms.Mann;
using MetaNotebooks.Torch.Tests;

namespace MetaNotebooks.Tests.Mann;

/// <summary>The Least Recently Used Access memory (Santoro et al. 2016, equations 2–8), in float64.</summary>
public class LruaMemoryTests
{
    private const double Gamma = 0.95;

    /// <summary>One episode, one head, 5 slots of width 3: usage smallest at slot 3, the head last read slot 1.</summary>
    private static LruaState OneHeadState()
    {
        var memory = tensor(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1 }, [1, 5, 3]);
        var usage = tensor(new double[] { 0.9, 0.7, 0.8, 0.1, 0.6 }, [1, 5]);
        var read = tensor(new double[] { 0, 1, 0, 0, 0 }, [1, 1, 5]);
        var (leastUsed, erase) = LruaMemory.LeastUsed(usage, 1);
        return new LruaState(memory, usage, read, leastUsed, erase);
    }

    [Fact]
    public void LeastUsedMarksTheNSmallestUsagesAndErasesTheSmallest()
    {
        using var scope = NewDisposeScope();
        var usage = tensor(new double[] { 0.5, 0.1, 0.9, 0.2, 0.3, 0.05, 0.7, 0.6 }, [2, 4]);
        var (leastUsed, erase) = LruaMemory.LeastUsed(usage, 2);
        Assert.Equal(new double[] { 0, 1, 0, 1, 1, 1, 0, 0 }, leastUsed.ToArray<double>());
        Assert.Equal(new double[] { 0, 1, 0, 0, 0, 1, 0, 0 }, erase.ToArray<double>());
        Assert.Throws<ArgumentOutOfRangeException>(() => LruaMemory.LeastUsed(usage, 5));
    }

    [Fact]
    public void WithTheGateClosedTheWriteGoesToTheLeastUsedSlot()
    {
        using var scope = NewDisposeScope();
        var before = OneHeadState();
        var add = tensor(new double[] { 0.5, -0.25, 2 }, [1, 1, 3]);
        var step = LruaMemory.Step(before, keys: tensor(new double[] { 1, 0, 0 }, [1, 1, 3]), adds: add, gates: full([1, 1], -40.0, ScalarType.Float64), Gamma);
        Assert.True(step.WriteWeights.allclose(tensor(new double[] { 0, 0, 0, 1, 0 }, [1, 1, 5]), 0, 1e-15));
        // Slot 3 (least used) was erased and then received the add vector; every other row is unchanged.
        var expected = before.Memory.clone();
        expected[0, 3] = add[0, 0];
        Assert.True(step.State.Memory.allclose(expected, 0, 1e-15), $"memory after the write: {step.State.Memory}");
    }

    [Fact]
    public void WithTheGateOpenTheWriteGoesToTheSlotReadLast()
    {
        using var scope = NewDisposeScope();
        var before = OneHeadState();
        var add = tensor(new double[] { 0.5, -0.25, 2 }, [1, 1, 3]);
        var step = LruaMemory.Step(before, keys: tensor(new double[] { 1, 0, 0 }, [1, 1, 3]), adds: add, gates: full([1, 1], 40.0, ScalarType.Float64), Gamma);
        Assert.True(step.WriteWeights.allclose(tensor(new double[] { 0, 1, 0, 0, 0 }, [1, 1, 5]), 0, 1e-15));
        // Slot 1 (read last) is updated in place: M(1) + a. The least-used slot 3 is still erased before the write (eq. 8).
        var expected = before.Memory.clone();
        expected[0, 1] = before.Memory[0, 1] + add[0, 0];
        expected[0, 3] = zeros([3], ScalarType.Float64);
        Assert.True(step.State.Memory.allclose(expected, 0, 1e-15), $"memory after the write: {step.State.Memory}");
    }

    [Fact]
    public void AHalfOpenGateSplitsTheWriteBetweenTheTwoSlots()
    {
        using var scope = NewDisposeScope();
        var step = LruaMemory.Step(OneHeadState(), tensor(new double[] { 1, 0, 0 }, [1, 1, 3]), ones([1, 1, 3], ScalarType.Float64), zeros([1, 1], ScalarType.Float64), Gamma);
        Assert.True(step.WriteWeights.allclose(tensor(new double[] { 0, 0.5, 0, 0.5, 0 }, [1, 1, 5]), 0, 1e-15));
    }

    [Fact]
    public void UsageDecaysByGammaAndGainsTheStepsReadAndWriteWeights()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(2);
        var usage = rand([3, 6], g, ScalarType.Float64);
        // No reads or writes: only the decay.
        var none = zeros([3, 2, 6], ScalarType.Float64);
        Assert.True(LruaMemory.Usage(usage, Gamma, none, none).allclose(usage * Gamma, 0, 1e-15));
        // Through a step with one head: the read weights and the write weights each sum to 1 over the slots (the head read
        // one distribution last, and one slot is least used), so the total usage grows by exactly 2 after the decay.
        var before = OneHeadState();
        var step = LruaMemory.Step(before, randn([1, 1, 3], g, ScalarType.Float64), randn([1, 1, 3], g, ScalarType.Float64), randn([1, 1], g, ScalarType.Float64), Gamma);
        var expected = before.Usage * Gamma + step.State.ReadWeights.sum(1) + step.WriteWeights.sum(1);
        Assert.True(step.State.Usage.allclose(expected, 0, 1e-14));
        Assert.Equal(before.Usage.sum().item<double>() * Gamma + 2, step.State.Usage.sum().item<double>(), 12);
        // Repeated steps with every weight zero would leave γ^k of the usage: check the decay compounds.
        var decayed = usage;
        for (var k = 0; k < 5; k++) decayed = LruaMemory.Usage(decayed, Gamma, none, none);
        Assert.True(decayed.allclose(usage * Math.Pow(Gamma, 5), 0, 1e-14));
    }

    [Fact]
    public void ReadsAreConvexCombinationsOfMemoryRows()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var memory = randn([4, 7, 5], g, ScalarType.Float64);
        var keys = randn([4, 3, 5], g, ScalarType.Float64);
        var weights = LruaMemory.ReadWeights(keys, memory);
        Assert.True((weights >= 0).all().item<bool>());
        Assert.True(weights.sum(-1).allclose(ones([4, 3], ScalarType.Float64), 0, 1e-14));
        var reads = LruaMemory.Read(weights, memory);
        // r(h) = Σ_i w(h, i) M(i), row by row, and each coordinate lies between the rows' extremes.
        for (var b = 0; b < 4; b++)
            for (var h = 0; h < 3; h++)
            {
                var sum = zeros([5], ScalarType.Float64);
                for (var i = 0; i < 7; i++) sum = sum + weights[b, h, i] * memory[b, i];
                Assert.True(reads[b, h].allclose(sum, 0, 1e-14));
            }
        Assert.True((reads <= memory.amax(1).unsqueeze(1) + 1e-12).all().item<bool>());
        Assert.True((reads >= memory.amin(1).unsqueeze(1) - 1e-12).all().item<bool>());
        // Cosine scores are bounded by 1 and the row closest in angle to the key gets the largest weight.
        Assert.True((LruaMemory.Cosine(keys, memory).abs() <= 1 + 1e-12).all().item<bool>());
        var aligned = memory.clone();
        aligned[0, 2] = keys[0, 0] * 3;
        Assert.Equal(2, LruaMemory.ReadWeights(keys, aligned)[0, 0].argmax().item<long>());
    }

    [Fact]
    public void AZeroRowScoresZeroNotNaN()
    {
        using var scope = NewDisposeScope();
        var memory = zeros([1, 3, 4], ScalarType.Float64);
        var weights = LruaMemory.ReadWeights(ones([1, 1, 4], ScalarType.Float64), memory);
        Assert.True(weights.allclose(full([1, 1, 3], 1.0 / 3, ScalarType.Float64), 0, 1e-15));
    }

    [Fact]
    public void MismatchedHeadShapesAreRejectedWithTheExpectedShapes()
    {
        using var scope = NewDisposeScope();
        var state = LruaMemory.Initial(2, 8, 4, 3, ScalarType.Float64);
        var e = Assert.Throws<ArgumentException>(() => LruaMemory.Step(state, zeros([2, 2, 4], ScalarType.Float64), zeros([2, 2, 4], ScalarType.Float64), zeros([2, 2], ScalarType.Float64), Gamma));
        Assert.Contains("[B, 3, 4]", e.Message);
    }

    /// <summary>
    /// Every differentiable input of a step — the previous memory and read weights, the keys, add vectors and gates — against
    /// central finite differences, first and second order. The least-used weights are piecewise constant (topk of the
    /// usage) and, at this point, far from a tie, so the differences see the same slots as autograd.
    /// </summary>
    [Fact]
    public void StepGradientsMatchFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(5);
        const int batch = 2, heads = 2, slots = 5, width = 3;
        var usage = tensor(new double[] { 0.9, 0.1, 0.5, 0.3, 1.2, 0.2, 0.8, 0.05, 0.6, 1.0 }, [batch, slots]);
        var (leastUsed, erase) = LruaMemory.LeastUsed(usage, heads);
        var memory = randn([batch, slots, width], g, ScalarType.Float64);
        var previousRead = randn([batch, heads, slots], g, ScalarType.Float64).softmax(-1);
        var keys = randn([batch, heads, width], g, ScalarType.Float64);
        var adds = randn([batch, heads, width], g, ScalarType.Float64);
        var gates = randn([batch, heads], g, ScalarType.Float64);
        GradCheck.Assert("LruaMemory.Step", x =>
        {
            var step = LruaMemory.Step(new LruaState(x[0], usage, x[1], leastUsed, erase), x[2], x[3], x[4], Gamma);
            return cat([step.Reads.flatten(), step.State.Memory.flatten(), step.State.Usage.flatten(), step.State.ReadWeights.flatten()], 0);
        }, [memory, previousRead, keys, adds, gates]);
    }

    [Fact]
    public void CosineGradientsMatchFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(6);
        GradCheck.Assert("LruaMemory.Cosine", x => LruaMemory.Cosine(x[0], x[1]), [randn([2, 2, 3], g, ScalarType.Float64), randn([2, 4, 3], g, ScalarType.Float64)]);
        // At an all-zero row (the erased slot) the ε keeps the gradient finite.
        var memory = zeros([1, 2, 3], ScalarType.Float64).requires_grad_();
        var keys = randn([1, 1, 3], g, ScalarType.Float64).requires_grad_();
        var grads = autograd.grad(LruaMemory.ReadWeights(keys, memory).select(2, 0).sum(), [keys, memory]);
        Assert.All(grads, t => Assert.True(t.isfinite().all().item<bool>()));
    }
}

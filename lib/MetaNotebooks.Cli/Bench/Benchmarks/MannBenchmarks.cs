using System.Globalization;
using MetaNotebooks.Algorithms.Mann;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;
using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Cli.Bench.Benchmarks;

// MANN (Santoro et al. 2016) has no PyTorch peer in ../shared/bench: these rows report our side only (Peer = null), with a
// breakdown of where the time goes, to size the reproduction's runs (`mn reproduce mann-omniglot`).

/// <summary>
/// One training step of <see cref="Experiments.MannOmniglot"/> on a batch of 16 episodes of 50 steps (random 20×20 images,
/// random labels of 5 classes): the learner's loss, backward, clip 10, an Adam step. For the MANN the breakdown times a
/// second forward pass phase by phase (controller: LSTM cell and head layer; addressing: write weights, cosine read
/// weights, least-used weights; memory: erase, write, read, usage; output layer and loss), then backward and the optimiser.
/// </summary>
public abstract class SequenceLearnerBenchmark(bool memory) : IBenchmark
{
    public const int Episodes = 16, Steps = 50;

    public string Name => memory ? "mann.batch" : "mann.lstm-batch";

    public string Measures => $"one Adam step of the {(memory ? "MANN (LSTM 200, memory 128×40, 4 heads)" : "LSTM baseline (200 units)")} on {Episodes} episodes × {Steps} steps " +
                              "of random 20×20 images with 5 classes: loss, backward, clip 10, Adam (no PyTorch peer: none exists)";

    public Measurement RunOurs(BenchSettings s)
    {
        using var outer = NewDisposeScope();
        var options = new MannOptions { InputSize = 400, Seed = 1 };
        using SequenceLearner learner = memory ? new Mann(options) : new LstmBaseline(options);
        using var g = new Generator(3);
        var batch = s.Pick(Episodes, 2);
        var images = rand([batch, Steps, 1, 20, 20], g);
        var labels = randint(0, options.Classes, [batch, Steps], g);
        var parameters = learner.parameters();
        using var optimizer = new optim.Adam(parameters, MannOptions.LearningRate);
        void Step()
        {
            EpisodeTrainer.ClipGradNorm(parameters, MannOptions.ClipGradNorm);
            optimizer.step();
        }
        var whole = Harness.Run(() =>
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            using var loss = learner.Loss(images, labels);
            loss.backward();
            Step();
            loss.item<double>();
        }, Harness.Macro(warmup: s.Pick(2, 1), samples: s.Pick(5, 1)));
        var rate = string.Create(CultureInfo.InvariantCulture, $"{batch / whole.Mean:0.0} episodes/s");
        if (learner is not Mann mann) return whole with { Note = rate };

        var parts = new Dictionary<string, List<double>>();
        for (var k = 0; k < s.Pick(3, 1); k++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var laps = new Dictionary<string, double>();
            var start = Harness.Now();
            void Lap(string part)
            {
                var now = Harness.Now();
                laps[part] = laps.GetValueOrDefault(part) + now - start;
                start = now;
            }
            var loss = PhasedLoss(mann, images, labels, Lap);
            loss.item<double>();
            Lap("output layer and loss");
            loss.backward();
            Lap("backward (all phases)");
            Step();
            Lap("clip and Adam step");
            foreach (var (part, seconds) in laps) (parts.TryGetValue(part, out var list) ? list : parts[part] = []).Add(seconds);
        }
        var breakdown = parts.ToDictionary(p => p.Key, p => Stats.Median(p.Value));
        var total = breakdown.Values.Sum();
        var phases = string.Join(", ", breakdown.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value:0.000} s ({100 * p.Value / total:0}%)")));
        return whole with { Note = $"{rate}; phases (separate run, sum {total.ToString("0.00", CultureInfo.InvariantCulture)} s): {phases}", Breakdown = breakdown };
    }

    /// <summary>The MANN's loss as <see cref="Mann"/> computes it, cut into phases for the clock (same parameters, same result).</summary>
    private static Tensor PhasedLoss(Mann mann, Tensor images, Tensor labels, Action<string> lap)
    {
        var o = mann.Options;
        var p = mann.parameters();
        var input = SequenceInput.Build(images, labels, o.Classes);
        var (batch, steps) = (input.size(0), input.size(1));
        var h = zeros([batch, o.Hidden]);
        var c = zeros([batch, o.Hidden]);
        var state = LruaMemory.Initial(batch, o.Slots, o.Width, o.Heads);
        var reads = zeros([batch, o.Heads * o.Width]);
        var outputs = new List<Tensor>();
        lap("input and initial state");
        for (var t = 0; t < steps; t++)
        {
            (h, c) = F.lstm_cell(cat([input.select(1, t), reads], 1), (h, c), p[0], p[1], p[2], p[3]);
            var heads = F.linear(h, p[4], p[5]).split([o.Heads * o.Width, o.Heads * o.Width, o.Heads], 1);
            var keys = heads[0].tanh().view(batch, o.Heads, o.Width);
            var adds = heads[1].tanh().view(batch, o.Heads, o.Width);
            lap("controller (LSTM cell, head layer)");
            var writeWeights = LruaMemory.WriteWeights(heads[2], state.ReadWeights, state.LeastUsed);
            lap("addressing (write weights, read weights, least used)");
            var memory = LruaMemory.Write(state.Memory, state.Erase, writeWeights, adds);
            lap("memory (erase, write, read, usage)");
            var readWeights = LruaMemory.ReadWeights(keys, memory);
            lap("addressing (write weights, read weights, least used)");
            var read = LruaMemory.Read(readWeights, memory);
            var usage = LruaMemory.Usage(state.Usage, o.Gamma, readWeights, writeWeights);
            lap("memory (erase, write, read, usage)");
            var (leastUsed, erase) = LruaMemory.LeastUsed(usage, o.Heads);
            lap("addressing (write weights, read weights, least used)");
            state = new LruaState(memory, usage, readWeights, leastUsed, erase);
            reads = read.flatten(1);
            outputs.Add(cat([h, reads], 1));
        }
        var logits = F.linear(stack(outputs, 1), p[6], p[7]);
        return F.cross_entropy(logits.flatten(0, 1), labels.flatten());
    }

    public PeerCommand? Peer(BenchSettings s) => null;
}

public sealed class MannBatchBenchmark() : SequenceLearnerBenchmark(memory: true);

public sealed class LstmBatchBenchmark() : SequenceLearnerBenchmark(memory: false);

using MetaNotebooks.Data;
using MetaNotebooks.Models;
using MetaNotebooks.Torch;
using MetaNotebooks.Training;

namespace MetaNotebooks.Experiments;

/// <summary>
/// Settings of the Mini-ImageNet reproduction (Finn et al. 2017, appendix A.1; code cbfinn/maml main.py and maml.py):
/// 5-way, 15 queries per class, 32 filters, 5 inner steps α = 0.01 (10 at test), meta-batch 4 (1-shot) / 2 (5-shot), Adam
/// 0.001, meta-gradients clipped to ±10 by value, 60,000 iterations. Use <see cref="ForCell"/>.
/// </summary>
public sealed record MamlMiniImageNetConfig : MamlFewShotConfig
{
    /// <summary>Image side (84: the paper's; a smaller one only for quick tests, as the images are resized to it).</summary>
    public int ImageSize { get; init; } = MiniImageNet.ImageSize;

    /// <summary>The paper's settings of the 5-way K-shot cell.</summary>
    public static MamlMiniImageNetConfig ForCell(int shots, bool firstOrder) => new()
    {
        Ways = 5, Shots = shots, Queries = 15, FirstOrder = firstOrder, Iterations = 60_000, MetaBatch = shots == 1 ? 4 : 2,
        InnerSteps = 5, InnerLearningRate = 0.01, EvalSteps = 10, ClipValue = 10, Filters = 32,
        // Curve points on the first 100 of the 600 test tasks (about a minute each on one thread); the final evaluation uses all 600.
        EvalEvery = 100, CurveTasks = 100,
        // One task at a time: plain convolutions. Grouped over 4 tasks, libtorch 1.13's CPU grouped convolution made the
        // 10-step fine-tuning 1.45× slower per task (1 thread, loaded machine), and it needs ~0.5 GB of activations.
        EvalChunk = 1,
        // Query accuracy after 0, 1, 5 and 10 steps: the 75 query images cost 15 times the 5 support images per step, so
        // scoring 4 steps instead of 11 makes an evaluation ~2× cheaper.
        ScoredSteps = [0, 1, 5, 10],
    };

    /// <summary>"5w1s", "5w5s-fo"; another network (filters, image size) is another run with its own files.</summary>
    public override string Slug => $"{Ways}w{Shots}s{(FirstOrder ? "-fo" : "")}{(Filters != 32 ? $"-{Filters}f" : "")}{(ImageSize != MiniImageNet.ImageSize ? $"-{ImageSize}px" : "")}";
    /// <summary>The paper's Mini-ImageNet table has 5-way columns only.</summary>
    public override string Column => $"{Shots}-shot";

    public override void Validate()
    {
        base.Validate();
        if (Shots + Queries > 600) throw new ArgumentException($"shots + queries must be ≤ 600 (images per Mini-ImageNet class), got {Shots + Queries}");
        if (ImageSize < 16 || ImageSize > MiniImageNet.ImageSize) throw new ArgumentException($"image size must be in 16…{MiniImageNet.ImageSize}, got {ImageSize}");
    }
}

/// <summary>
/// Finn et al. (2017) Table 1, MiniImagenet: meta-train MAML (or first-order MAML) on the 64 training classes of Ravi &amp;
/// Larochelle's split, then fine-tune (10 steps) on the fixed test tasks shared by every Mini-ImageNet method in this
/// repository (<see cref="EpisodeTrainer.EvaluationEpisodes"/> on the test split, 5-way K-shot 15-query, the first 600
/// episodes, no augmentation) and report the query accuracy (mean ± 95% CI). Validation classes are not used (the paper's
/// code trains for a fixed number of iterations and does no model selection). Pixels are x / 255 (the paper's code).
/// </summary>
public sealed class MamlMiniImageNet(MamlMiniImageNetConfig config, string outputDirectory, DataPaths? paths = null, TextWriter? log = null)
    : MamlFewShot(config, outputDirectory)
{
    public const string ExperimentName = "maml-miniimagenet";
    public MamlMiniImageNetConfig Config { get; } = config;
    public override string Experiment => ExperimentName;
    protected override string TableId => "miniimagenet";
    protected override string PaperIterations => "60,000";

    public override MamlConvNet NewModel()
    {
        using var g = new Generator((ulong)Config.Seed);
        return MamlConvNet.MiniImageNet(Config.Ways, g, filters: Config.Filters, imageSize: Config.ImageSize);
    }

    protected override ClassIndexedDataset Split(string split) => LoadSplit(split, Config.ImageSize, paths, log);

    /// <summary>
    /// A Mini-ImageNet split with pixels x / 255 (the paper's code), at `imageSize` (84: as stored; smaller only for quick
    /// tests). Also the meta-learner LSTM's data (<see cref="MetaLearnerMiniImageNet"/>).
    /// </summary>
    public static ClassIndexedDataset LoadSplit(string split, int imageSize, DataPaths? paths = null, TextWriter? log = null)
    {
        var data = MiniImageNet.Load(split, ImageNormalization.UnitRange, paths, log);
        if (imageSize == MiniImageNet.ImageSize) return data;
        // Quick tests only: the whole split shrunk once by area averaging (exact box filters at 42 or 28), still uint8, a
        // thousand images at a time (the train split as float32 would be 3.3 GB).
        using (data)
        {
            using var scope = torch.NewDisposeScope();
            var chunks = new List<Tensor>();
            for (long start = 0; start < data.ImageCount; start += 1000)
            {
                using var inner = torch.NewDisposeScope();
                var chunk = data.Images.narrow(0, start, Math.Min(1000, data.ImageCount - start)).to(ScalarType.Float32);
                chunks.Add(torch.nn.functional.adaptive_avg_pool2d(chunk, imageSize, imageSize).round().clamp_(0, 255).to(ScalarType.Byte).MoveToOuterDisposeScope());
            }
            var small = torch.cat(chunks, 0).MoveToOuterDisposeScope();
            var counts = Enumerable.Range(0, data.ClassCount).Select(data.Count).ToArray();
            return new ClassIndexedDataset($"{data.Name} at {imageSize}×{imageSize}", small, data.ClassNames, counts, data.Transform);
        }
    }

    protected override EpisodeSampler TrainingEpisodes(ClassIndexedDataset train, int iteration) =>
        new(train, Config.Ways, Config.Shots, Config.Queries, EpisodeTrainer.StepSeed(Config.Seed, iteration));

    protected override EpisodeSampler TestEpisodes(ClassIndexedDataset test) =>
        EpisodeTrainer.EvaluationEpisodes(test, Config.Ways, Config.Shots, Config.Queries, EpisodeTrainer.EvaluationSeed);
}

namespace MetaNotebooks.Algorithms.MetaNet;

/// <summary>What the task-level generator d reads about the support set (docs/metanet.md §4.4).</summary>
public enum EmbeddingLoss
{
    /// <summary>
    /// Cross-entropy of u's own slow head on consecutive chunks of the support set, one chunk per LSTM step: what the
    /// authors' code does for every k (the head is never trained, spec §9.3).
    /// </summary>
    CrossEntropy,
    /// <summary>
    /// The paper's contrastive loss for k &gt; 1 on sampled pairs, one pair per LSTM step; the form (Euclidean distance,
    /// margin 1, half positive pairs, T = 5) is the spec's engineering choice, not confirmed (§4.4).
    /// </summary>
    Contrastive,
}

/// <summary>How the generated fast weights are scaled before use (docs/metanet.md §2.4–§2.5, §5).</summary>
public enum FastWeightScale
{
    /// <summary>
    /// Used as generated, as the authors' code does (<c>MetaNetFull.__forward</c> and <c>embed_key</c> only reshape the
    /// generators' outputs). m and d write numbers of order 0.1–1 for every layer, 5–25 times the slow weights'
    /// 1/√fan-in, and with a non-zero mean: the augmented trunk's features grow by ~10⁵ over five blocks at
    /// initialisation and the first loss is 10⁷ or more (chapter 8, §8.5).
    /// </summary>
    None,
    /// <summary>
    /// Each generated layer centred and put at its slow weights' initial scale: for every support example (and for Q*),
    /// the mean over the layer's generated coordinates is subtracted and the result multiplied by 1/√fan-in, the
    /// standard deviation of the layer's slow initialisation (Chainer's N(0, 1/fan-in)). Both parts are needed: m sees
    /// only two features per coordinate and most coordinates share nearly the same two (§8.2 of chapter 8), so its
    /// output has a common offset in every layer, and an offset μ in a kernel of fan-in K multiplies the mean of a
    /// non-negative input by μ·K, which the 1/√K scale alone leaves ~√K times too large (first losses of 3·10² to
    /// 2·10⁵ over seeds 1–4 with the scale alone, against 10⁷–10¹¹ unscaled and 10²–10³ centred and scaled).
    /// Not in the authors' code: this repository's fix for the exploding start, in which the fast convolution branches
    /// are silenced (every pre-activation ≤ 0) within ten episodes and never recover. Applied to every generated
    /// weight: m's memory, d's Q*, and MetaNet+'s task-level weights of b.
    /// </summary>
    FanIn,
}

/// <summary>Which of the authors' models b and u are (docs/metanet.md §3, §7.1).</summary>
public enum MetaNetArchitecture
{
    /// <summary>
    /// <c>MetaNetFull</c>, the Omniglot model: "the whole model is fast-parameterized and layer-augmented". 1×28×28
    /// input, five augmented blocks (64 filters), fc1 [64, 64], no batch norm.
    /// </summary>
    Full,
    /// <summary>
    /// <c>MetaNetPartial</c>, the Mini-ImageNet model: "only last few layers are fast-parameterized and layer-augmented".
    /// 3×84×84 input, three slow-only batch-norm blocks (<see cref="Models.BatchNormTrunk"/>), then two augmented blocks
    /// (32 filters), fc1 [288, 288]. Meta-information and fast weights cover only the augmented blocks, fc1 and the head
    /// (P_conv = 18,432, P_fc = 82,944 + 288·n); each network's trunk runs once per batch (support, queries), so batch
    /// norm sees the batch, and in evaluation mode it uses its running averages in every pass.
    /// </summary>
    Partial,
}

/// <summary>
/// MetaNet's architecture and its variants (docs/metanet.md §3 for the Omniglot model, §8 for the ablations). Each
/// variant is one option; the defaults are the released Omniglot model (<c>MetaNetFull</c>), <see cref="MiniImageNet"/>
/// the released Mini-ImageNet one (<c>MetaNetPartial</c>).
/// </summary>
public sealed record MetaNetOptions
{
    /// <summary>
    /// The authors' Mini-ImageNet model as train_mini_imagenet.py builds it (spec §6.3, §7.1): <c>MetaNetPartial</c> with
    /// 32 filters, 10-way training heads and IT = 10 task steps (one support example per LSTM step for N ≤ 19).
    /// </summary>
    public static MetaNetOptions MiniImageNet => new() { Architecture = MetaNetArchitecture.Partial, Ways = 10, Filters = 32, TaskSteps = 10 };

    public MetaNetArchitecture Architecture { get; init; } = MetaNetArchitecture.Full;

    /// <summary>Input channels: 1 (Omniglot, Full) or 3 (Mini-ImageNet, Partial).</summary>
    public int InChannels => Architecture == MetaNetArchitecture.Full ? 1 : 3;
    /// <summary>Side of the square input images: 28 (Full) or 84 (Partial).</summary>
    public int ImageSize => Architecture == MetaNetArchitecture.Full ? 28 : 84;
    /// <summary>Slow-only batch-norm blocks in front of the augmented ones: 0 (Full) or 3 (Partial).</summary>
    public int TrunkBlocks => Architecture == MetaNetArchitecture.Full ? 0 : 3;
    /// <summary>Layer-augmented conv blocks: 5 (Full) or 2 (Partial).</summary>
    public int AugmentedBlocks => Architecture == MetaNetArchitecture.Full ? 5 : 2;

    /// <summary>Adam's step size (spec §3.4, §6.1: α = 1e−3, β = (0.9, 0.999), ε = 1e−8, one episode per update).</summary>
    public const double LearningRate = 1e-3;
    /// <summary>Global gradient-norm clip before every Adam step (spec §3.4).</summary>
    public const double ClipGradNorm = 10;

    /// <summary>n: the size of the heads that training uses (5 in the authors' Omniglot script).</summary>
    public int Ways { get; init; } = 5;

    /// <summary>Task-level fast weights Q* in u from the LSTM d (spec §4.3). false: MetaNet− (spec §8.1).</summary>
    public bool TaskLevelFastWeights { get; init; } = true;

    /// <summary>MetaNet+ (spec §8.2, reconstructed): task-level fast weights for b too, a third branch in every layer.</summary>
    public bool BaseTaskFastWeights { get; init; }

    /// <summary>
    /// The base learner uses only its fast weights (spec §8.3): no slow branches in the query pass. The slow weights
    /// still give the per-example gradients, receive no gradient and stay at their random initialisation.
    /// </summary>
    public bool FastOnlyBaseLearner { get; init; }

    public EmbeddingLoss EmbeddingLoss { get; init; } = EmbeddingLoss.CrossEntropy;

    /// <summary>IT: the number of LSTM steps over the support set (5 for Omniglot, spec §3.3; 10 for Mini-ImageNet, §7.1).</summary>
    public int TaskSteps { get; init; } = 5;

    /// <summary>T: sampled pairs (LSTM steps) for the contrastive loss.</summary>
    public int ContrastivePairs { get; init; } = 5;

    /// <summary>How generated fast weights are scaled before use; <see cref="FastWeightScale.None"/> is the authors' code.</summary>
    public FastWeightScale FastWeightScale { get; init; } = FastWeightScale.None;

    /// <summary>All queries read memory and run b in one batch (spec §10.3); false: the authors' query-by-query loop.</summary>
    public bool BatchedQueries { get; init; } = true;

    /// <summary>Convolution filters (64 for Omniglot, 32 for Mini-ImageNet; smaller only for quick tests).</summary>
    public int Filters { get; init; } = 64;

    /// <summary>Seeds the initialisation and the contrastive pair sampler.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>The variant's name as the paper's tables write it.</summary>
    public string Name
    {
        get
        {
            var name = !TaskLevelFastWeights ? "MetaNet−" : BaseTaskFastWeights ? "MetaNet+" : "MetaNet";
            if (FastOnlyBaseLearner) name += " (fast-only base learner)";
            if (EmbeddingLoss == EmbeddingLoss.Contrastive) name += " (contrastive)";
            if (FastWeightScale == FastWeightScale.FanIn) name += " (fan-in scaled)";
            return name;
        }
    }

    public void Validate()
    {
        if (Ways < 2) throw new ArgumentOutOfRangeException(nameof(Ways), Ways, "MetaNet needs at least 2 ways.");
        if (TaskSteps < 1 || ContrastivePairs < 1 || Filters < 1) throw new ArgumentException($"task steps, contrastive pairs and filters must be ≥ 1; got {TaskSteps}, {ContrastivePairs}, {Filters}.");
        if (!Enum.IsDefined(Architecture)) throw new ArgumentOutOfRangeException(nameof(Architecture), Architecture, "architecture must be Full (Omniglot) or Partial (Mini-ImageNet).");
        if (!Enum.IsDefined(FastWeightScale)) throw new ArgumentOutOfRangeException(nameof(FastWeightScale), FastWeightScale, "fast-weight scale must be None or FanIn.");
        if (!TaskLevelFastWeights && EmbeddingLoss == EmbeddingLoss.Contrastive)
            throw new ArgumentException("the contrastive embedding loss feeds the task-level generator, which MetaNet− does not have.");
    }
}

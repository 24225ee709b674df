using MetaNotebooks.Experiments;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>The options every MAML cell shares (length, meta-batch, curve, evaluation, seed, batching, budget), read once for Omniglot and Mini-ImageNet.</summary>
internal static class MamlCellOptions
{
    public static TConfig Read<TConfig>(TConfig defaults, Options options) where TConfig : MamlFewShotConfig =>
        (TConfig)((MamlFewShotConfig)defaults with
        {
            Iterations = options.Int("iterations", defaults.Iterations),
            MetaBatch = options.Int("meta-batch", defaults.MetaBatch),
            EvalEvery = options.Int("eval-every", defaults.EvalEvery),
            EvalTasks = options.Int("eval-tasks", defaults.EvalTasks),
            Seed = options.Int("seed", (int)defaults.Seed),
            Batched = options.Flag("batched"),
            Hours = options.Hours(),
        });
}

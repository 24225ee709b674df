using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Tasks;

/// <summary>
/// Sine-wave regression tasks of Finn et al. (2017), §5.1: y = A·sin(x − φ) with amplitude A ~ U[0.1, 5.0],
/// phase φ ~ U[0, π] and inputs x ~ U[−5, 5]; K support points and Q query points per task.
/// </summary>
public sealed class SineTasks : ITaskDistribution, IDisposable
{
    public int SupportSize { get; }
    public int QuerySize { get; }
    public (double Min, double Max) Amplitude { get; }
    public (double Min, double Max) Phase { get; }
    public (double Min, double Max) Input { get; }
    public ScalarType DType { get; }
    private readonly Generator generator;

    public SineTasks(int supportSize, int querySize, long seed, (double, double)? amplitude = null, (double, double)? phase = null,
                     (double, double)? input = null, ScalarType dtype = ScalarType.Float32)
    {
        if (supportSize <= 0) throw new ArgumentOutOfRangeException(nameof(supportSize), supportSize, "K (support points per task) must be positive.");
        if (querySize <= 0) throw new ArgumentOutOfRangeException(nameof(querySize), querySize, "query points per task must be positive.");
        (SupportSize, QuerySize, DType) = (supportSize, querySize, dtype);
        Amplitude = amplitude ?? (0.1, 5.0);
        Phase = phase ?? (0, Math.PI);
        Input = input ?? (-5, 5);
        generator = new Generator((ulong)seed);
    }

    /// <summary>Draws `tasks` tasks: inputs and targets [tasks, K or Q, 1], plus their amplitudes and phases.</summary>
    public TaskBatch Sample(int tasks) => SampleWithParameters(tasks).Batch;

    public (TaskBatch Batch, Tensor Amplitudes, Tensor Phases) SampleWithParameters(int tasks)
    {
        if (tasks <= 0) throw new ArgumentOutOfRangeException(nameof(tasks), tasks, "the number of tasks must be positive.");
        using var scope = NewDisposeScope();
        var amplitude = empty([tasks, 1, 1], DType).uniform_(Amplitude.Min, Amplitude.Max, generator);
        var phase = empty([tasks, 1, 1], DType).uniform_(Phase.Min, Phase.Max, generator);
        var x = empty([tasks, SupportSize + QuerySize, 1], DType).uniform_(Input.Min, Input.Max, generator);
        var y = amplitude * (x - phase).sin();
        var batch = new TaskBatch(
            x.narrow(1, 0, SupportSize), y.narrow(1, 0, SupportSize),
            x.narrow(1, SupportSize, QuerySize), y.narrow(1, SupportSize, QuerySize));
        batch.MoveToOuterDisposeScope();
        return (batch, amplitude.MoveToOuterDisposeScope(), phase.MoveToOuterDisposeScope());
    }

    /// <summary>The task's true function on the given inputs (for plots): A·sin(x − φ).</summary>
    public static Tensor Evaluate(Tensor x, double amplitude, double phase) => amplitude * (x - phase).sin();

    /// <summary>Restarts the task stream from a seed (training derives it from the iteration, so resuming is exact).</summary>
    public void Reseed(long seed) => generator.manual_seed((ulong)seed);

    public void Dispose() => generator.Dispose();
}

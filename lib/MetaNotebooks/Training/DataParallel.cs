using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Training;

/// <summary>
/// Data-parallel training over a c10d process group (libtorch's Gloo): every rank holds the same model, takes its share
/// of each meta-batch's tasks, and the ranks sum their gradients before every optimiser step. A meta-gradient is a mean
/// over tasks, so when each rank scales its loss by (its tasks / all tasks) the summed gradient is exactly the one a
/// single process computes, up to the order of floating-point additions.
/// </summary>
/// <remarks>
/// The ranks find each other with torchrun's environment (`mn launch` sets it): MASTER_ADDR, MASTER_PORT, WORLD_SIZE,
/// RANK, LOCAL_RANK. Rank 0 alone writes results, checkpoints and figures (<see cref="IsWriter"/>).
/// </remarks>
public sealed class DataParallel : IDisposable
{
    public ProcessGroup Group { get; }
    public int Rank => Group.Rank;
    public int WorldSize => Group.WorldSize;
    /// <summary>Whether this rank writes files (rank 0): the others compute and exchange, nothing more.</summary>
    public bool IsWriter => Rank == 0;

    public DataParallel(ProcessGroup group) => Group = group;

    /// <summary>The environment variables a launcher sets (torchrun's names).</summary>
    public static class Environment
    {
        public const string MasterAddress = "MASTER_ADDR";
        public const string MasterPort = "MASTER_PORT";
        public const string WorldSize = "WORLD_SIZE";
        public const string Rank = "RANK";
        public const string LocalRank = "LOCAL_RANK";
        /// <summary>Seconds every rendezvous and collective may wait (default 600).</summary>
        public const string Timeout = "MN_COLLECTIVE_TIMEOUT";
    }

    /// <summary>
    /// The group this process was launched into, or null when it runs alone (no WORLD_SIZE, or 1). A partial or malformed
    /// environment is an error that names the variable.
    /// </summary>
    public static DataParallel? FromEnvironment()
    {
        var worldSize = LaunchedWorldSize();
        if (worldSize == 1) return null;
        var rank = Int(Environment.Rank, Required(Environment.Rank), 0);
        if (rank >= worldSize) throw new InvalidOperationException($"{Environment.Rank}={rank} is not below {Environment.WorldSize}={worldSize}: each rank is 0…{worldSize - 1}.");
        var address = Required(Environment.MasterAddress);
        var port = Int(Environment.MasterPort, Required(Environment.MasterPort), 1);
        if (port > 65535) throw new InvalidOperationException($"{Environment.MasterPort}={port} is not a port (1…65535).");
        var timeoutText = System.Environment.GetEnvironmentVariable(Environment.Timeout);
        var timeout = TimeSpan.FromSeconds(string.IsNullOrEmpty(timeoutText) ? 600 : Int(Environment.Timeout, timeoutText, 1));
        return new DataParallel(new ProcessGroup(address, port, rank, worldSize, timeout));
    }

    /// <summary>WORLD_SIZE as the launcher set it (1 when unset).</summary>
    public static int LaunchedWorldSize() =>
        System.Environment.GetEnvironmentVariable(Environment.WorldSize) is { Length: > 0 } world ? Int(Environment.WorldSize, world, 1) : 1;

    private static string Required(string name) =>
        System.Environment.GetEnvironmentVariable(name) is { Length: > 0 } v
            ? v
            : throw new InvalidOperationException($"{Environment.WorldSize} is set but {name} is not: start the ranks with `./mn launch --nproc N …`, which sets MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK.");

    private static int Int(string name, string text, int min) =>
        int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= min
            ? v
            : throw new InvalidOperationException($"{name}={text} must be an integer ≥ {min}.");

    /// <summary>This rank's share of `count` items: a contiguous range, the first (count mod world) ranks one longer.</summary>
    public (int Start, int Count) Share(int count) => Share(count, Rank, WorldSize);

    public static (int Start, int Count) Share(int count, int rank, int worldSize)
    {
        var (q, r) = (count / worldSize, count % worldSize);
        return (rank * q + Math.Min(rank, r), q + (rank < r ? 1 : 0));
    }

    /// <summary>This rank's tasks of a meta-batch (views; the batch keeps owning its tensors).</summary>
    public TaskBatch Slice(TaskBatch batch)
    {
        var (start, count) = Share(batch.Count);
        if (count == 0) throw new InvalidOperationException($"a meta-batch of {batch.Count} tasks cannot be split across {WorldSize} ranks: use at most {batch.Count} ranks.");
        return new TaskBatch(batch.SupportInputs.narrow(0, start, count), batch.SupportTargets.narrow(0, start, count),
                             batch.QueryInputs.narrow(0, start, count), batch.QueryTargets.narrow(0, start, count));
    }

    /// <summary>
    /// What this rank contributes to a meta-batch's loss: `meanLoss` (a mean over the tasks it is given) on this rank's share
    /// of `batch`, weighted by the share, so that the sum over ranks is `meanLoss(batch)`. Every rank draws the whole batch
    /// (the tasks one process would draw) and keeps its part.
    /// </summary>
    public Tensor LossShare(TaskBatch batch, Func<TaskBatch, Tensor> meanLoss)
    {
        using var mine = Slice(batch);
        using var local = meanLoss(mine);
        return local * ((double)mine.Count / batch.Count);
    }

    /// <summary>Sums every parameter's gradient across ranks, in place (a parameter without one contributes zeros).</summary>
    public void SumGradients(IEnumerable<Tensor> parameters)
    {
        using var scope = NewDisposeScope();
        // One flat buffer, one collective: per-tensor all-reduces would pay the network's latency once per parameter.
        var ps = parameters.ToList();
        var flat = cat(ps.Select(p => (p.grad is { } g ? g : zeros_like(p)).reshape(-1)).ToArray());
        Group.all_reduce(flat);
        long offset = 0;
        foreach (var p in ps)
        {
            var n = p.numel();
            var summed = flat.narrow(0, offset, n).view(p.shape);
            if (p.grad is { } g) g.copy_(summed);
            else p.grad = summed.clone();   // the parameter keeps its own reference
            offset += n;
        }
    }

    /// <summary>The sum of a number over ranks (a loss, a count of correct answers).</summary>
    public double Sum(double value)
    {
        using var t = tensor(new[] { value });
        Group.all_reduce(t);
        return t.item<double>();
    }

    /// <summary>Whether any rank wants to stop (Ctrl-C, a signal, its time budget): all stop at the same iteration.</summary>
    public bool AnyStops(bool stop)
    {
        using var t = tensor(new[] { stop ? 1.0 : 0.0 });
        Group.all_reduce(t, ReduceOp.MAX);
        return t.item<double>() > 0;
    }

    /// <summary>Makes every rank's parameters rank 0's (a safeguard at the start: the seeds already make them equal).</summary>
    public void BroadcastParameters(IEnumerable<Tensor> parameters)
    {
        using var _ = no_grad();
        foreach (var p in parameters) Group.broadcast(p);
    }

    public void Dispose() => Group.Dispose();
}

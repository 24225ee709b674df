namespace MetaNotebooks.Torch;

/// <summary>How <see cref="ProcessGroup.all_reduce"/> combines the ranks' tensors.</summary>
public enum ReduceOp
{
    SUM = 0,
    PRODUCT = 1,
    MIN = 2,
    MAX = 3,
    /// <summary>The mean over ranks (a sum divided by the world size: Gloo has no average of its own).</summary>
    AVG = 100,
}

/// <summary>
/// A group of processes that exchange tensors: libtorch's c10d ProcessGroupGloo, met through a TCPStore that rank 0
/// hosts (what torch.distributed.init_process_group("gloo") builds). Every rank must call the same collectives in the same
/// order. Each collective waits at most <see cref="Timeout"/>: a rank that died or never came makes the others fail
/// with a <see cref="TorchException"/> naming the operation and this rank, not hang.
/// </summary>
public sealed class ProcessGroup : IDisposable
{
    private IntPtr handle;

    public int Rank { get; }
    public int WorldSize { get; }
    public TimeSpan Timeout { get; }
    /// <summary>The port of the rendezvous store (rank 0 chose it when asked for port 0).</summary>
    public int Port { get; }

    /// <param name="masterAddress">the host where rank 0 runs (an address or a name; "127.0.0.1" on one machine)</param>
    /// <param name="masterPort">the store's port on that host; rank 0 may pass 0 for any free port (read <see cref="Port"/>)</param>
    /// <param name="timeout">the longest any rendezvous or collective waits (default 10 minutes)</param>
    /// <param name="prefix">keys of this group in the store, so that groups on one store do not mix</param>
    public ProcessGroup(string masterAddress, int masterPort, int rank, int worldSize, TimeSpan? timeout = null, string prefix = "mn")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(masterAddress);
        if (worldSize < 1) throw new ArgumentOutOfRangeException(nameof(worldSize), worldSize, "the world size must be at least 1");
        if (rank < 0 || rank >= worldSize)
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"the rank must be in 0..{worldSize - 1} for a world of {worldSize}");
        if (masterPort < 0 || masterPort > 65535) throw new ArgumentOutOfRangeException(nameof(masterPort), masterPort, "a port is in 0..65535");
        var t = timeout ?? TimeSpan.FromMinutes(10);
        if (t <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), t, "the timeout must be positive");
        var error = Native.mn_pg_new(masterAddress, masterPort, rank, worldSize, (long)Math.Ceiling(t.TotalMilliseconds), prefix, out handle);
        if (error != IntPtr.Zero)
            Native.Check(error, $"init_process_group (rank {rank} of {worldSize}, store at {masterAddress}:{masterPort})");
        (Rank, WorldSize, Timeout) = (rank, worldSize, t);
        Native.Check(Native.mn_pg_store_port(handle, out var port), "init_process_group");
        Port = port;
    }

    /// <summary>
    /// A loopback port that is free at this moment, for a store on one machine: the ranks must all know the port before
    /// they start, so the launcher (and a test) picks it first. Another process could take it in between; then the
    /// rendezvous fails with a message, never hangs.
    /// </summary>
    public static int FreeLoopbackPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private IntPtr Handle => handle != IntPtr.Zero ? handle : throw new ObjectDisposedException(nameof(ProcessGroup), "This process group was destroyed.");

    private string Op(string name) => $"{name} (rank {Rank} of {WorldSize})";

    /// <summary>Combines `tensor` across ranks in place: afterwards every rank holds the same reduced values.</summary>
    public void all_reduce(Tensor tensor, ReduceOp op = ReduceOp.SUM)
    {
        var native = op == ReduceOp.AVG ? ReduceOp.SUM : op;
        Tensor.Done(Native.mn_pg_all_reduce(Handle, tensor.Handle, (int)native), Op("all_reduce"), tensor);
        if (op == ReduceOp.AVG && WorldSize > 1) tensor.div_(WorldSize);
    }

    /// <summary>Copies rank `src`'s `tensor` into every rank's `tensor` (same shape and dtype everywhere).</summary>
    public void broadcast(Tensor tensor, int src = 0) =>
        Tensor.Done(Native.mn_pg_broadcast(Handle, tensor.Handle, src), Op("broadcast"), tensor);

    /// <summary>Every rank's `tensor` (same shape everywhere), stacked in rank order: shape [world size, *tensor.shape].</summary>
    public Tensor all_gather(Tensor tensor)
    {
        Tensor.Done(Native.mn_pg_all_gather(Handle, tensor.Handle, out var result), Op("all_gather"), tensor);
        return new Tensor(result);
    }

    /// <summary>Returns when every rank has reached it.</summary>
    public void barrier() => Tensor.Done(Native.mn_pg_barrier(Handle), Op("barrier"));

    public void Dispose()
    {
        var h = handle;
        if (h == IntPtr.Zero) return;
        handle = IntPtr.Zero;
        Native.mn_pg_free(h);
        GC.SuppressFinalize(this);
    }

    ~ProcessGroup() => Dispose();
}

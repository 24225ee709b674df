using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using MetaNotebooks.Notebooks;
using MetaNotebooks.Training;
using NetMQ;
using NetMQ.Sockets;

namespace MetaNotebooks.Kernel;

/// <summary>
/// The Jupyter kernel "C# (MetaNotebooks)": the messaging protocol 5.3 over ZeroMQ around the notebook engine.
/// Threads: one poller thread owns every socket (heartbeat, control, the receiving side of shell and stdin, and every
/// send, through <see cref="outbox"/>), so that control messages (interrupt, shutdown) are answered while a cell runs;
/// one shell thread handles shell requests in order; cells run on the engine's own thread.
/// With MN_TRACE_PHASES=1 the log gets, for each shell request, where its time went (<see cref="PhaseTrace"/>; the line
/// of a request is written when the next one arrives).
/// </summary>
public sealed class KernelServer : IDisposable
{
    private readonly ConnectionFile connection;
    private readonly MessageSigner signer;
    private readonly TextWriter log;
    private readonly string session = Guid.NewGuid().ToString("N");
    private readonly RouterSocket shell = new(), control = new(), stdin = new();
    private readonly PublisherSocket iopub = new();
    private readonly ResponseSocket heartbeat = new();
    private readonly NetMQQueue<(NetMQSocket Socket, List<byte[]> Frames, string Type)> outbox = new();
    private readonly NetMQPoller poller;
    private readonly BlockingCollection<WireMessage> shellQueue = new();
    private readonly BlockingCollection<WireMessage> stdinReplies = new();
    private readonly ShellHandlers handlers;
    private readonly KernelInput input;
    private volatile bool stopping;
    private volatile bool busy;

    public KernelServer(ConnectionFile connection, TextWriter log)
    {
        this.connection = connection;
        this.log = log;
        signer = new MessageSigner(connection.Key);
        foreach (var socket in new NetMQSocket[] { shell, control, stdin, iopub, heartbeat }) socket.Options.Linger = TimeSpan.FromSeconds(1);
        shell.Bind(connection.Address(connection.ShellPort));
        control.Bind(connection.Address(connection.ControlPort));
        stdin.Bind(connection.Address(connection.StdinPort));
        iopub.Bind(connection.Address(connection.IOPubPort));
        heartbeat.Bind(connection.Address(connection.HeartbeatPort));
        shell.ReceiveReady += (_, e) =>
        {
            if (PhaseTrace.Finish("previous request") is { } trace) log.WriteLine($"mn kernel: {trace}");
            PhaseTrace.Start(System.Diagnostics.Stopwatch.GetTimestamp());
            Receive(e.Socket, shellQueue.Add);
        };
        control.ReceiveReady += (_, e) => Receive(e.Socket, HandleControl);
        stdin.ReceiveReady += (_, e) => Receive(e.Socket, stdinReplies.Add);
        heartbeat.ReceiveReady += (_, e) => e.Socket.SendMultipartBytes(e.Socket.ReceiveMultipartBytes());
        outbox.ReceiveReady += (_, e) =>
        {
            while (e.Queue.TryDequeue(out var item, TimeSpan.Zero))
            {
                item.Socket.SendMultipartBytes(item.Frames);
                if (PhaseTrace.Enabled) PhaseTrace.Mark($"sent-{item.Type}");
            }
        };
        poller = new NetMQPoller { shell, control, stdin, heartbeat, outbox };
        input = new KernelInput(this);
        handlers = new ShellHandlers(this, new NotebookSession(Environment.CurrentDirectory, "kernel"), input);
    }

    /// <summary>Serves until a shutdown_request; returns the process exit code.</summary>
    public int Run()
    {
        // The runtime has read it (KernelSpec.TieredCompilationVariable); processes that cells start get the usual default.
        Environment.SetEnvironmentVariable(KernelSpec.TieredCompilationVariable, null);
        _ = Interrupt.Token;   // installs the SIGINT handler: interrupt_mode "signal" and a terminal's Ctrl-C interrupt the cell, not the kernel
        Console.SetIn(input);
        using var parentWatch = WatchParent();
        // SIGTERM (kill, systemd, a front end that cannot reach the control channel) ends the kernel: Interrupt turns it into
        // an interrupt so that a running training loop writes its checkpoint; here the kernel then stops as on shutdown.
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => Stop("SIGTERM"));
        var shellThread = new Thread(ServeShell) { IsBackground = true, Name = "shell" };
        shellThread.Start();
        Publish("status", new JsonObject { ["execution_state"] = "starting" }, null);
        log.WriteLine($"mn kernel: listening on {connection.Transport}://{connection.Ip} (shell {connection.ShellPort}, control {connection.ControlPort})");
        poller.Run();
        // Shut down while a cell runs: give its training loop (interrupted above) time to write its checkpoint.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (busy && DateTime.UtcNow < deadline) Thread.Sleep(20);
        return 0;
    }

    private void ServeShell()
    {
        foreach (var message in shellQueue.GetConsumingEnumerable())
        {
            PhaseTrace.Mark("shell-thread");
            busy = true;
            Publish("status", new JsonObject { ["execution_state"] = "busy" }, message);
            try
            {
                handlers.Handle(message);
            }
            catch (Exception e)
            {
                log.WriteLine($"mn kernel: {message.Type} failed: {e}");
                Reply(message, new JsonObject { ["status"] = "error", ["ename"] = e.GetType().Name, ["evalue"] = e.Message, ["traceback"] = new JsonArray() });
            }
            finally
            {
                Publish("status", new JsonObject { ["execution_state"] = "idle" }, message);
                busy = false;
            }
        }
    }

    /// <summary>After a failed cell with stop_on_error: every shell request already queued gets an "aborted" reply, unexecuted.</summary>
    internal void AbortQueued()
    {
        while (shellQueue.TryTake(out var message))
        {
            Publish("status", new JsonObject { ["execution_state"] = "busy" }, message);
            Reply(message, new JsonObject { ["status"] = "aborted" });
            Publish("status", new JsonObject { ["execution_state"] = "idle" }, message);
        }
    }

    /// <summary>
    /// A kernel whose front end died (killed, crashed) would run forever: like ipykernel, when started by a Jupyter client
    /// (JPY_PARENT_PID set), stop once the process that started us is gone (Linux re-parents an orphan).
    /// </summary>
    private Timer? WatchParent()
    {
        if (Environment.GetEnvironmentVariable("JPY_PARENT_PID") is null || ParentId() is not { } parent || parent <= 1) return null;
        return new Timer(_ =>
        {
            if (ParentId() == parent || stopping) return;
            Stop($"the front end (process {parent}) is gone");
        }, null, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2));
    }

    /// <summary>Stops serving (the process then ends); a running training loop is interrupted first, to save its checkpoint.</summary>
    private void Stop(string why)
    {
        if (stopping) return;
        log.WriteLine($"mn kernel: {why}; stopping");
        Interrupt.Request(why);
        stopping = true;
        poller.StopAsync();
    }

    /// <summary>The parent process id from /proc (null where there is no /proc: the watch is off).</summary>
    private static int? ParentId()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.TryParse(fields[1], out var ppid) ? ppid : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private void HandleControl(WireMessage message)
    {
        Publish("status", new JsonObject { ["execution_state"] = "busy" }, message);
        switch (message.Type)
        {
            case "interrupt_request":
                Interrupt.Request("kernel interrupt");
                Send(control, WireMessage.Create("interrupt_reply", new JsonObject { ["status"] = "ok" }, message, session));
                break;
            case "shutdown_request":
                var restart = message.Content["restart"]?.GetValue<bool>() ?? false;
                Send(control, WireMessage.Create("shutdown_reply", new JsonObject { ["status"] = "ok", ["restart"] = restart }, message, session));
                Publish("status", new JsonObject { ["execution_state"] = "idle" }, message);
                log.WriteLine($"mn kernel: shutdown requested{(restart ? " (the front end restarts the kernel)" : "")}");
                Interrupt.Request("kernel shutdown");   // a running training loop saves its checkpoint before the process ends
                stopping = true;
                poller.StopAsync();
                return;
            case "kernel_info_request":
                Send(control, WireMessage.Create("kernel_info_reply", KernelInfo.Reply(), message, session));
                handlers.WarmUpOnce();
                break;
            default:
                log.WriteLine($"mn kernel: control message '{message.Type}' is not handled");
                break;
        }
        Publish("status", new JsonObject { ["execution_state"] = "idle" }, message);
    }

    private void Receive(NetMQSocket socket, Action<WireMessage> handle)
    {
        var frames = socket.ReceiveMultipartBytes();
        PhaseTrace.Mark("received");
        if (WireMessage.Parse(frames, signer, out var problem) is { } message)
        {
            PhaseTrace.Mark("parsed");
            handle(message);
        }
        else log.WriteLine($"mn kernel: dropped {problem}");
    }

    internal string Session => session;

    /// <summary>The reply to a shell request: "kernel_info_request" → "kernel_info_reply", to the request's sender.</summary>
    internal void Reply(WireMessage request, JsonObject content) =>
        Send(shell, WireMessage.Create(request.Type.Replace("_request", "_reply", StringComparison.Ordinal), content, request, session));

    /// <summary>A message on IOPub, for every front end connected to this kernel.</summary>
    internal void Publish(string type, JsonObject content, WireMessage? parent)
    {
        var topic = System.Text.Encoding.UTF8.GetBytes($"kernel.{session}.{type}");
        Send(iopub, WireMessage.Create(type, content, parent, session, [topic]));
    }

    /// <summary>Asks the front end for a line of input (Console.ReadLine in a cell) and waits for it.</summary>
    internal string? RequestInput(WireMessage parent, string prompt, bool password)
    {
        while (stdinReplies.TryTake(out _)) { }   // a late reply to an earlier request
        Send(stdin, WireMessage.Create("input_request", new JsonObject { ["prompt"] = prompt, ["password"] = password }, parent, session));
        while (true)
        {
            if (stdinReplies.TryTake(out var reply, TimeSpan.FromMilliseconds(200)))
                return reply.Type == "input_reply" ? reply.Content["value"]?.GetValue<string>() : null;
            if (Interrupt.Token.IsCancellationRequested) return null;
        }
    }

    /// <summary>Sockets are not thread-safe: every send happens on the poller thread (at once when already on it).</summary>
    private void Send(NetMQSocket socket, WireMessage message)
    {
        if (stopping) return;   // after shutdown_reply: nothing more leaves
        var frames = message.ToFrames(signer);
        try
        {
            if (PhaseTrace.Enabled) PhaseTrace.Mark($"queue-{message.Type}");
            if (poller.CanExecuteTaskInline) socket.SendMultipartBytes(frames);
            else outbox.Enqueue((socket, frames, message.Type));
        }
        catch (Exception e) when (e is ObjectDisposedException or TerminatingException)
        {
            // Shutting down: the front end has its shutdown_reply and no longer listens.
        }
    }

    internal void Log(string text) => log.WriteLine($"mn kernel: {text}");

    public void Dispose()
    {
        stopping = true;
        shellQueue.CompleteAdding();
        poller.Dispose();
        foreach (var socket in new NetMQSocket[] { shell, control, stdin, iopub, heartbeat }) socket.Dispose();
        outbox.Dispose();
        NetMQConfig.Cleanup(block: true);   // lingers (1 s at most) so that the last replies leave
    }
}

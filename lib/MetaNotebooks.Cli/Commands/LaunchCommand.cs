using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using MetaNotebooks.Torch;
using MetaNotebooks.Training;

namespace MetaNotebooks.Cli.Commands;

/// <summary>
/// `mn launch --nproc N [--nnodes M --node-rank R --master HOST:PORT] &lt;mn command&gt;`: starts N ranks of an `mn` command
/// on this machine with torchrun's environment (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK), so that they
/// train together over libtorch's c10d (<see cref="DataParallel"/>). The same command on each of M machines, with its
/// own --node-rank, runs a multi-machine job.
/// </summary>
public sealed class LaunchCommand : ICommand
{
    public string Name => "launch";
    public string Summary => "run an mn command as N data-parallel ranks (c10d/Gloo), on this machine or several";

    private const string Usage =
        "usage: mn launch --nproc N [--nnodes M --node-rank R --master HOST:PORT] [--timeout SECONDS] <mn command …>\n" +
        "  --nproc N        ranks on this machine (each gets cores / N libtorch threads unless the command says --threads)\n" +
        "  --nnodes M       machines in the job (default 1); then every machine runs the same command with its --node-rank\n" +
        "  --node-rank R    this machine's index, 0 … M − 1 (node 0 hosts the rendezvous)\n" +
        "  --master H:P     node 0's address and a free port (default on one machine: 127.0.0.1 and any free port)\n" +
        "  --timeout S      how long a rendezvous or collective may wait for a rank (default 600 s)\n" +
        "example: ./mn launch --nproc 2 reproduce maml-sine --iterations 2000\n" +
        "Only rank 0 writes results and checkpoints; a failed rank stops the others within the timeout; running the\n" +
        "same command again resumes from the last checkpoint.";

    public int Run(string[] args)
    {
        if (args.Length > 0 && args[0] is "--help" or "-h" or "help")
        {
            Console.WriteLine(Usage);
            return 0;
        }
        var (nproc, nnodes, nodeRank, master, timeout, command) = Parse(args);
        var (host, port) = master ?? ("127.0.0.1", ProcessGroup.FreeLoopbackPort());
        var world = nproc * nnodes;
        var threads = Math.Max(1, Environment.ProcessorCount / nproc);
        if (command[0] == "reproduce" && !command.Contains("--threads"))
            command = [.. command, "--threads", threads.ToString(CultureInfo.InvariantCulture)];
        Console.Error.WriteLine($"mn launch: {nproc} rank(s) here (node {nodeRank} of {nnodes}, world {world}), store at {host}:{port}: mn {string.Join(" ", command)}");

        var ranks = new List<Process>();
        for (var local = 0; local < nproc; local++)
        {
            var rank = nodeRank * nproc + local;
            var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "mn.dll"));
            foreach (var a in command) start.ArgumentList.Add(a);
            start.Environment[DataParallel.Environment.MasterAddress] = host;
            start.Environment[DataParallel.Environment.MasterPort] = port.ToString(CultureInfo.InvariantCulture);
            start.Environment[DataParallel.Environment.WorldSize] = world.ToString(CultureInfo.InvariantCulture);
            start.Environment[DataParallel.Environment.Rank] = rank.ToString(CultureInfo.InvariantCulture);
            start.Environment[DataParallel.Environment.LocalRank] = local.ToString(CultureInfo.InvariantCulture);
            start.Environment["LOCAL_WORLD_SIZE"] = nproc.ToString(CultureInfo.InvariantCulture);
            start.Environment[DataParallel.Environment.Timeout] = timeout.ToString(CultureInfo.InvariantCulture);
            start.Environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
            // Rank 0 speaks to the terminal (progress bar included); the others' lines are prefixed with their rank.
            start.RedirectStandardOutput = start.RedirectStandardError = rank != 0;
            var p = Process.Start(start) ?? throw new InvalidOperationException($"could not start rank {rank}");
            if (rank != 0)
            {
                p.OutputDataReceived += (_, e) => { if (e.Data is { Length: > 0 }) Console.Out.WriteLine($"[rank {rank}] {e.Data}"); };
                p.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 }) Console.Error.WriteLine($"[rank {rank}] {e.Data}"); };
                p.BeginOutputReadLine();
                p.BeginErrorReadLine();
            }
            ranks.Add(p);
        }

        // SIGTERM/SIGHUP to the launcher reach every rank (Ctrl-C in a terminal reaches them already): they agree to
        // stop at one iteration and rank 0 writes the checkpoint.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; Signal(ranks, 15); });
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; Signal(ranks, 15); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        return Wait(ranks, nodeRank * nproc, TimeSpan.FromSeconds(timeout + 30));
    }

    /// <summary>
    /// Waits for every rank; the exit code is the first failure's (or 0). A rank that failed makes the others fail at their
    /// next collective; any still running `grace` later are killed, so that the launcher never hangs.
    /// </summary>
    private static int Wait(List<Process> ranks, int firstRank, TimeSpan grace)
    {
        int? failure = null;
        DateTime? failedAt = null;
        var running = ranks.ToList();
        while (running.Count > 0)
        {
            foreach (var p in running.Where(p => p.WaitForExit(200)).ToList())
            {
                p.WaitForExit();   // flush redirected output
                running.Remove(p);
                if (p.ExitCode != 0 && failure is null)
                {
                    failure = p.ExitCode;
                    failedAt = DateTime.UtcNow;
                    Console.Error.WriteLine($"mn launch: rank {firstRank + ranks.IndexOf(p)} exited with code {p.ExitCode}; the other ranks stop at their next collective.");
                }
            }
            if (failedAt is { } t && DateTime.UtcNow - t > grace)
                foreach (var p in running.Where(p => !p.HasExited))
                {
                    Console.Error.WriteLine($"mn launch: rank {firstRank + ranks.IndexOf(p)} still runs {grace.TotalSeconds:0} s after a failure; killing it.");
                    p.Kill(entireProcessTree: true);
                }
        }
        return failure ?? 0;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    private static void Signal(IEnumerable<Process> ranks, int signal)
    {
        foreach (var p in ranks)
            if (!p.HasExited) kill(p.Id, signal);
    }


    private static (int nproc, int nnodes, int nodeRank, (string, int)? master, int timeout, string[] command) Parse(string[] args)
    {
        int? nproc = null;
        var (nnodes, nodeRank, timeout) = (1, 0, 600);
        (string, int)? master = null;
        var i = 0;
        int Number(string name, int min, int max)
        {
            if (i + 1 >= args.Length) throw new UsageException($"{name} needs a value\n{Usage}");
            if (!int.TryParse(args[++i], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
                throw new UsageException($"{name} must be an integer in {min}…{max}, got {args[i]}");
            return v;
        }
        for (; i < args.Length && args[i].StartsWith("--", StringComparison.Ordinal); i++)
        {
            switch (args[i])
            {
                case "--nproc": nproc = Number("--nproc", 1, 64); break;
                case "--nnodes": nnodes = Number("--nnodes", 1, 1024); break;
                case "--node-rank": nodeRank = Number("--node-rank", 0, 1023); break;
                case "--timeout": timeout = Number("--timeout", 1, 86_400); break;
                case "--master":
                    if (i + 1 >= args.Length) throw new UsageException($"--master needs HOST:PORT\n{Usage}");
                    var text = args[++i];
                    var colon = text.LastIndexOf(':');
                    if (colon <= 0 || !int.TryParse(text[(colon + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
                        throw new UsageException($"--master must be HOST:PORT with a port in 1…65535, got {text}");
                    master = (text[..colon], port);
                    break;
                default: throw new UsageException($"unknown launch option {args[i]}\n{Usage}");
            }
        }
        if (nproc is null) throw new UsageException($"--nproc N is required\n{Usage}");
        if (nodeRank >= nnodes) throw new UsageException($"--node-rank {nodeRank} must be below --nnodes {nnodes}");
        if (nnodes > 1 && master is null) throw new UsageException("several machines need --master HOST:PORT (node 0's address and a free port), the same on every machine");
        if (i >= args.Length) throw new UsageException($"which mn command should the ranks run?\n{Usage}");
        if (args[i] == "launch") throw new UsageException("mn launch cannot launch itself");
        return (nproc.Value, nnodes, nodeRank, master, timeout, args[i..]);
    }
}

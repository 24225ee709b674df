using System.Runtime.InteropServices;

namespace MetaNotebooks.Training;

/// <summary>
/// A request to stop cleanly: loops check <see cref="Token"/>, save a checkpoint and return. Ctrl-C (SIGINT), SIGTERM
/// (what `kill`, systemd, a CI timeout and job schedulers send) and SIGHUP (a closed terminal) all make the request; so
/// does a notebook kernel's interrupt, through <see cref="Request"/>. The first signal is handled; a second one of
/// the same run ends the process as usual, for a loop that does not stop.
/// </summary>
public static class Interrupt
{
    private static readonly Lock Gate = new();
    private static CancellationTokenSource source = new();
    private static PosixSignalRegistration[]? registrations;

    /// <summary>The token that the next signal or <see cref="Request"/> cancels. Installs the signal handlers on first use.</summary>
    public static CancellationToken Token
    {
        get
        {
            lock (Gate)
            {
                registrations ??= [Register(PosixSignal.SIGINT, "Ctrl-C"), Register(PosixSignal.SIGTERM, "SIGTERM"), Register(PosixSignal.SIGHUP, "SIGHUP")];
                return source.Token;
            }
        }
    }

    /// <summary>Why the current token was cancelled ("Ctrl-C", "SIGTERM", "kernel interrupt", …), or null.</summary>
    public static string? Reason { get; private set; }

    /// <summary>Cancels the current token, as a signal does; returns false when it was already cancelled.</summary>
    public static bool Request(string reason)
    {
        lock (Gate)
        {
            if (source.IsCancellationRequested) return false;
            Reason = reason;
            source.Cancel();
            return true;
        }
    }

    /// <summary>
    /// Starts a fresh token once an interrupt has been handled, so that the next run (a notebook kernel's next cell) can
    /// be interrupted again. Tokens handed out before stay cancelled.
    /// </summary>
    public static void Reset()
    {
        lock (Gate)
        {
            if (!source.IsCancellationRequested) return;
            source = new CancellationTokenSource();
            Reason = null;
        }
    }

    private static PosixSignalRegistration Register(PosixSignal signal, string name) =>
        PosixSignalRegistration.Create(signal, context =>
        {
            // A second signal while the first is being handled: let the default action end the process.
            if (!Request(name)) return;
            context.Cancel = true;
            Console.Error.WriteLine($"\nInterrupted ({name}): finishing the current iteration and saving a checkpoint ({name} again to abort).");
        });
}

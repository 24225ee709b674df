namespace MetaNotebooks.Training;

/// <summary>Ctrl-C as a request to stop cleanly: loops check the token, save a checkpoint and return.</summary>
public static class Interrupt
{
    private static readonly CancellationTokenSource Source = new();
    private static int hooked;

    /// <summary>The token that Ctrl-C cancels (the first Ctrl-C only; a second one kills the process as usual).</summary>
    public static CancellationToken Token
    {
        get
        {
            if (Interlocked.Exchange(ref hooked, 1) == 0)
                Console.CancelKeyPress += (_, e) =>
                {
                    if (Source.IsCancellationRequested) return;
                    e.Cancel = true;
                    Console.Error.WriteLine("\nInterrupted: finishing the current iteration and saving a checkpoint (Ctrl-C again to abort).");
                    Source.Cancel();
                };
            return Source.Token;
        }
    }
}

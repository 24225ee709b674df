namespace MetaNotebooks.Kernel;

/// <summary>
/// Console.In inside the kernel: Console.ReadLine() in a cell asks the front end for a line (input_request on the stdin
/// channel) when the running request allows it (allow_stdin); otherwise it fails with a message saying why.
/// </summary>
internal sealed class KernelInput(KernelServer server) : TextReader
{
    /// <summary>The execute_request that may ask for input, or null (no cell running, or allow_stdin false).</summary>
    public volatile WireMessage? Request;

    public override string? ReadLine()
    {
        var request = Request ?? throw new InvalidOperationException(
            "Console.ReadLine: this front end does not accept input for this cell (allow_stdin is false, as in nbconvert and other batch runs).");
        return server.RequestInput(request, "", password: false);
    }

    public override int Read() => throw new NotSupportedException("Console.Read: read whole lines with Console.ReadLine() in a notebook.");
}

namespace MetaNotebooks.Torch;

/// <summary>An error raised by libtorch (or by the binding's own checks), with the operation's name.</summary>
public sealed class TorchException : Exception
{
    public string Operation { get; }
    public string TorchMessage { get; }

    public TorchException(string operation, string message) : base($"{operation}: {message}")
    {
        Operation = operation;
        TorchMessage = message;
    }
}

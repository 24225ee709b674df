using System.Text.Json.Nodes;

namespace MetaNotebooks.Kernel;

/// <summary>
/// The connection file a front end writes before starting the kernel: transport, address, the five ports and the key
/// that signs every message (Jupyter messaging, "Connection files").
/// </summary>
public sealed record ConnectionFile(
    string Transport, string Ip, int ShellPort, int IOPubPort, int StdinPort, int ControlPort, int HeartbeatPort,
    string Key, string SignatureScheme)
{
    public static ConnectionFile Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No connection file at {path} (the front end writes it before starting the kernel).", path);
        if (JsonNode.Parse(File.ReadAllText(path)) is not JsonObject json)
            throw new InvalidDataException($"{path} is not a JSON object; a Jupyter connection file has transport, ip, the five ports and key.");
        string Text(string name, string? fallback = null) =>
            json[name]?.GetValue<string>() ?? fallback ?? throw new InvalidDataException($"{path}: the connection file has no \"{name}\".");
        int Port(string name) =>
            json[name]?.GetValue<int>() is int p and > 0 ? p : throw new InvalidDataException($"{path}: the connection file has no valid \"{name}\".");
        var scheme = Text("signature_scheme", "hmac-sha256");
        if (scheme != "hmac-sha256")
            throw new InvalidDataException($"{path}: signature_scheme '{scheme}' is not supported; this kernel signs with hmac-sha256.");
        return new ConnectionFile(Text("transport", "tcp"), Text("ip", "127.0.0.1"), Port("shell_port"), Port("iopub_port"),
            Port("stdin_port"), Port("control_port"), Port("hb_port"), Text("key", ""), scheme);
    }

    public string Address(int port) => Transport == "ipc" ? $"ipc://{Ip}-{port}" : $"{Transport}://{Ip}:{port}";
}

using System.Text;
using System.Text.Json.Nodes;
using MetaNotebooks.Notebooks;

namespace MetaNotebooks.Kernel;

/// <summary>
/// A running cell's outputs sent to the front end as they happen: Console text as "stream" messages (batched for a
/// few milliseconds, so that a loop printing characters does not send a message each), displays as "display_data"
/// with a display_id that "update_display_data" redraws in place (progress bars, DisplayedValue.Update), the trailing
/// expression as "execute_result".
/// </summary>
internal sealed class KernelCellOutput : ICellOutput, IDisposable
{
    private readonly KernelServer server;
    private readonly WireMessage parent;
    private readonly bool silent;
    private readonly object gate = new();
    private readonly List<string> displayIds = [];
    private readonly StringBuilder pending = new();
    private readonly Timer flusher;
    private string? pendingStream;

    public KernelCellOutput(KernelServer server, WireMessage parent, bool silent)
    {
        (this.server, this.parent, this.silent) = (server, parent, silent);
        flusher = new Timer(_ => Flush(), null, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(50));
    }

    public void Write(string stream, string text)
    {
        if (text.Length == 0) return;
        lock (gate)
        {
            if (pendingStream is not null && pendingStream != stream) Flush();
            pendingStream = stream;
            pending.Append(text);
        }
    }

    public int AddDisplay(JsonObject data)
    {
        lock (gate)
        {
            Flush();
            var id = Guid.NewGuid().ToString("N");
            displayIds.Add(id);
            server.Publish("display_data", Display(data, id), parent);
            return displayIds.Count - 1;
        }
    }

    public void ReplaceDisplay(int index, JsonObject data)
    {
        lock (gate) server.Publish("update_display_data", Display(data, displayIds[index]), parent);
    }

    public void AddResult(JsonObject data, int executionCount)
    {
        if (silent) return;
        lock (gate)
        {
            Flush();
            server.Publish("execute_result", new JsonObject { ["execution_count"] = executionCount, ["data"] = Messages(data), ["metadata"] = new JsonObject() }, parent);
        }
    }

    /// <summary>Sends the text written since the last flush as one stream message.</summary>
    public void Flush()
    {
        lock (gate)
        {
            if (pending.Length == 0 || pendingStream is null) return;
            server.Publish("stream", new JsonObject { ["name"] = pendingStream, ["text"] = pending.ToString() }, parent);
            pending.Clear();
        }
    }

    private static JsonObject Display(JsonObject data, string id) => new()
    {
        ["data"] = Messages(data), ["metadata"] = new JsonObject(), ["transient"] = new JsonObject { ["display_id"] = id },
    };

    /// <summary>nbformat stores text as lists of lines; messages carry one string.</summary>
    internal static JsonObject Messages(JsonObject bundle)
    {
        var result = new JsonObject();
        foreach (var (mime, value) in bundle)
            result[mime] = value is JsonArray lines && lines.All(l => l is JsonValue) ? NotebookDocument.Text(lines) : value?.DeepClone();
        return result;
    }

    public void Dispose()
    {
        flusher.Dispose();
        Flush();
    }
}

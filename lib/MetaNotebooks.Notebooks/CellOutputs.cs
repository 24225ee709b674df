using System.Text.Json.Nodes;

namespace MetaNotebooks.Notebooks;

/// <summary>The outputs of one cell, in the order they happen: stream text, displayed values, the result.</summary>
public sealed class CellOutputs : ICellOutput
{
    private readonly List<JsonObject> items = [];
    private readonly object gate = new();

    public JsonArray ToJson()
    {
        lock (gate)
        {
            var array = new JsonArray();
            foreach (var item in items)
            {
                if (item["output_type"]?.GetValue<string>() == "stream")
                    item["text"] = NotebookDocument.Lines(NotebookDocument.Text(item["text"]));
                array.Add(item.DeepClone());
            }
            return array;
        }
    }

    /// <summary>Consecutive writes to one stream make one output, as in Jupyter.</summary>
    public void Write(string stream, string text)
    {
        if (text.Length == 0) return;
        lock (gate)
        {
            if (items.Count > 0 && items[^1]["output_type"]?.GetValue<string>() == "stream" && items[^1]["name"]?.GetValue<string>() == stream)
            {
                items[^1]["text"] = items[^1]["text"]!.GetValue<string>() + text;
                return;
            }
            items.Add(new JsonObject { ["name"] = stream, ["output_type"] = "stream", ["text"] = text });
        }
    }

    public int AddDisplay(JsonObject data)
    {
        lock (gate)
        {
            items.Add(new JsonObject { ["data"] = data, ["metadata"] = new JsonObject(), ["output_type"] = "display_data" });
            return items.Count - 1;
        }
    }

    public void ReplaceDisplay(int index, JsonObject data)
    {
        lock (gate) items[index]["data"] = data;
    }

    public void AddResult(JsonObject data, int executionCount)
    {
        lock (gate)
            items.Add(new JsonObject
            {
                ["data"] = data, ["execution_count"] = executionCount, ["metadata"] = new JsonObject(), ["output_type"] = "execute_result",
            });
    }
}

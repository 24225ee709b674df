using System.Text.Json.Nodes;
using MetaNotebooks.Notebooks;

namespace MetaNotebooks.Kernel;

/// <summary>The shell channel's requests, handled one at a time in arrival order: execute, completion, inspection, history, ….</summary>
internal sealed class ShellHandlers(KernelServer server, NotebookSession session, KernelInput input)
{
    private readonly List<(int Line, string Code)> history = [];
    private int executionCount;
    private int warmedUp;

    /// <summary>
    /// After the first kernel_info_reply (every front end asks for it first, then waits for it before sending cells):
    /// the engine compiles throwaway cells in the background, so that the reader's first cell is fast too, without
    /// delaying the reply that tells the front end the kernel is up.
    /// </summary>
    public void WarmUpOnce()
    {
        if (Interlocked.Exchange(ref warmedUp, 1) == 0) session.WarmUp(server.Log);
    }

    public void Handle(WireMessage message)
    {
        var content = message.Content;
        switch (message.Type)
        {
            case "execute_request":
                Execute(message);
                break;
            case "kernel_info_request":
                server.Reply(message, KernelInfo.Reply());
                WarmUpOnce();
                break;
            case "is_complete_request":
                server.Reply(message, NotebookCompletion.IsComplete(Text(content, "code")) switch
                {
                    "incomplete" => new JsonObject { ["status"] = "incomplete", ["indent"] = "    " },
                    var status => new JsonObject { ["status"] = status },
                });
                break;
            case "complete_request":
            {
                var code = Text(content, "code");
                var (start, end, matches) = session.OnWorker(() => NotebookCompletion.Complete(session, code, Cursor(code, content)));
                server.Reply(message, new JsonObject
                {
                    ["status"] = "ok", ["matches"] = new JsonArray(matches.Select(m => (JsonNode)m).ToArray()),
                    ["cursor_start"] = start, ["cursor_end"] = end, ["metadata"] = new JsonObject(),
                });
                break;
            }
            case "inspect_request":
            {
                var code = Text(content, "code");
                var text = session.OnWorker(() => NotebookCompletion.Inspect(session, code, Cursor(code, content)));
                server.Reply(message, new JsonObject
                {
                    ["status"] = "ok", ["found"] = text is not null,
                    ["data"] = text is null ? new JsonObject() : new JsonObject { ["text/plain"] = text },
                    ["metadata"] = new JsonObject(),
                });
                break;
            }
            case "comm_info_request":
                server.Reply(message, new JsonObject { ["status"] = "ok", ["comms"] = new JsonObject() });
                break;
            case "history_request":
                server.Reply(message, History(content));
                break;
            case "shutdown_request":
                server.Reply(message, new JsonObject { ["status"] = "ok", ["restart"] = content["restart"]?.GetValue<bool>() ?? false });
                break;
            case "comm_open":
            case "comm_msg":
            case "comm_close":
                server.Log($"{message.Type} ignored: this kernel has no comm targets (widgets)");
                break;
            default:
                server.Log($"shell message '{message.Type}' is not handled");
                break;
        }
    }

    private void Execute(WireMessage message)
    {
        var content = message.Content;
        var code = Text(content, "code");
        var silent = content["silent"]?.GetValue<bool>() ?? false;
        var storeHistory = !silent && (content["store_history"]?.GetValue<bool>() ?? true);
        var stopOnError = content["stop_on_error"]?.GetValue<bool>() ?? true;
        if (storeHistory) executionCount++;
        var count = Math.Max(executionCount, 1);
        if (!silent) server.Publish("execute_input", new JsonObject { ["code"] = code, ["execution_count"] = executionCount }, message);
        if (storeHistory) history.Add((executionCount, code));

        CellFailure? failure;
        var cellName = $"Cell In[{count}]";
        using (var output = new KernelCellOutput(server, message, silent))
        {
            PhaseTrace.Mark("output-ready");
            input.Request = content["allow_stdin"]?.GetValue<bool>() == true ? message : null;
            try
            {
                var source = CellSource.Prepare(code, "the kernel", cellName, null);
                failure = string.IsNullOrWhiteSpace(source) ? null : session.Execute(source, cellName, output, executionCount);
            }
            catch (NotebookCellException e)
            {
                failure = new CellFailure(CellFailureKind.Compilation, "NotSupported", e.Message, []);
            }
            finally
            {
                input.Request = null;
            }
        }
        PhaseTrace.Mark("back-on-shell");
        if (failure is null)
        {
            server.Reply(message, new JsonObject
            {
                ["status"] = "ok", ["execution_count"] = executionCount, ["user_expressions"] = new JsonObject(), ["payload"] = new JsonArray(),
            });
            return;
        }
        var traceback = new JsonArray([$"\u001b[0;31m{failure.Name}\u001b[0m: {failure.Message}", .. failure.Details.Select(d => (JsonNode)d)]);
        server.Publish("error", new JsonObject { ["ename"] = failure.Name, ["evalue"] = failure.Message, ["traceback"] = traceback }, message);
        server.Reply(message, new JsonObject
        {
            ["status"] = "error", ["execution_count"] = executionCount, ["ename"] = failure.Name, ["evalue"] = failure.Message,
            ["traceback"] = traceback.DeepClone(),
        });
        if (stopOnError) server.AbortQueued();
    }

    /// <summary>history_request: "tail" (the last n), "range" (this session's lines from start to stop) or "search" (a glob pattern).</summary>
    private JsonObject History(JsonObject content)
    {
        IEnumerable<(int Line, string Code)> found = history;
        switch (content["hist_access_type"]?.GetValue<string>())
        {
            case "tail":
                found = history.TakeLast(content["n"]?.GetValue<int>() ?? 10);
                break;
            case "range":
                var start = content["start"]?.GetValue<int>() ?? 0;
                var stop = content["stop"]?.GetValue<int?>() ?? int.MaxValue;
                found = history.Where(h => h.Line >= start && h.Line < stop);
                break;
            case "search":
                var pattern = "^" + System.Text.RegularExpressions.Regex.Escape(content["pattern"]?.GetValue<string>() ?? "*")
                    .Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$";
                found = history.Where(h => System.Text.RegularExpressions.Regex.IsMatch(h.Code, pattern, System.Text.RegularExpressions.RegexOptions.Singleline));
                break;
        }
        // Each entry is (session, line, input); session 0 is the current one.
        return new JsonObject
        {
            ["status"] = "ok",
            ["history"] = new JsonArray(found.Select(h => (JsonNode)new JsonArray(0, h.Line, h.Code)).ToArray()),
        };
    }

    private static string Text(JsonObject content, string name) => content[name]?.GetValue<string>() ?? "";

    /// <summary>The cursor: a position in Unicode code points (protocol 5.2+), turned into a .NET string index.</summary>
    private static int Cursor(string code, JsonObject content)
    {
        var points = content["cursor_pos"]?.GetValue<int>() ?? code.Length;
        var index = 0;
        for (var p = 0; p < points && index < code.Length; p++) index += char.IsHighSurrogate(code[index]) ? 2 : 1;
        return Math.Min(index, code.Length);
    }
}

using System.Reflection;
using System.Text.Json.Nodes;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Kernel;

/// <summary>What kernel_info_reply says: protocol, language (C#, .cs, the editors' modes) and the versions in the banner.</summary>
public static class KernelInfo
{
    public const string DisplayName = "C# (MetaNotebooks)";
    public const string Language = "csharp";

    private static readonly Lazy<string> Banner = new(() =>
    {
        var library = typeof(Training.Interrupt).Assembly.GetName().Version?.ToString(3) ?? "?";
        var kernel = typeof(KernelInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? library;
        return $"{DisplayName}: C# {Environment.Version} scripting (Roslyn), MetaNotebooks library {library}, libtorch {torch.version}; kernel {kernel.Split('+')[0]}.\n" +
               "display(x) shows a value, HTML(s) shows HTML; interrupt stops a training loop at its next step with its checkpoint saved.";
    });

    public static JsonObject Reply() => new()
    {
        ["status"] = "ok",
        ["protocol_version"] = WireMessage.ProtocolVersion,
        ["implementation"] = "metanotebooks",
        ["implementation_version"] = typeof(KernelInfo).Assembly.GetName().Version?.ToString(3),
        ["language_info"] = new JsonObject
        {
            ["name"] = Language,
            ["version"] = "preview",
            ["mimetype"] = "text/x-csharp",
            ["file_extension"] = ".cs",
            ["pygments_lexer"] = "csharp",
            ["codemirror_mode"] = "text/x-csharp",
            ["nbconvert_exporter"] = "script",
        },
        ["banner"] = Banner.Value,
        ["help_links"] = new JsonArray(
            new JsonObject { ["text"] = "C# language reference", ["url"] = "https://learn.microsoft.com/dotnet/csharp/language-reference/" }),
        ["debugger"] = false,
    };
}

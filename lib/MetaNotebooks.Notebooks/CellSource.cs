using System.Text.RegularExpressions;

namespace MetaNotebooks.Notebooks;

/// <summary>A cell that cannot run or failed: names the notebook, the cell and what went wrong.</summary>
public sealed class NotebookCellException(string message) : Exception(message);

/// <summary>What a C# cell may contain beyond C#, checked and stripped the same way by every front end.</summary>
public static partial class CellSource
{
    [GeneratedRegex(@"^\s*#r\s+""nuget:", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex NuGetReference();

    [GeneratedRegex(@"^#!\s*(\S+)", RegexOptions.Multiline)]
    private static partial Regex MagicLine();

    /// <summary>Checks what the engine cannot do and strips what the kernel would consume (#!csharp), keeping line numbers.</summary>
    public static string Prepare(string source, string notebook, string cell, string? kernel)
    {
        if (kernel is not null && !IsCSharp(kernel))
            throw new NotebookCellException($"{notebook}: {cell} is a '{kernel}' cell; only C# cells run here (markdown cells are skipped).");
        if (NuGetReference().IsMatch(source))
            throw new NotebookCellException(
                $"{notebook}: {cell} has a `#r \"nuget:…\"` reference. NuGet references are not supported by the MetaNotebooks engine: " +
                "reference the built library instead, e.g. #r \"../lib/MetaNotebooks/bin/Release/net10.0/MetaNotebooks.dll\".");
        return MagicLine().Replace(source, m =>
        {
            var magic = m.Groups[1].Value;
            if (IsCSharp(magic)) return "";
            throw new NotebookCellException(
                $"{notebook}: {cell} uses the magic command `#!{magic}`; only `#!csharp` is understood here (no other kernels or magics).");
        });
    }

    private static bool IsCSharp(string kernel) => kernel.ToLowerInvariant() is "csharp" or "c#" or "cs" or ".net-csharp";
}

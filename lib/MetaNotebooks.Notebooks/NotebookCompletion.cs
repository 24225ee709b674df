using System.Xml.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace MetaNotebooks.Notebooks;

/// <summary>
/// What an editor asks of the engine while a reader types: is the cell complete, what can follow the cursor, what is the
/// symbol under it. Answered by Roslyn over the session's state, so that `torch.ze` offers `zeros` and a variable from
/// an earlier cell completes: the code is compiled as the session's next submission and its semantic model is asked.
/// Call on the cells' thread (<see cref="NotebookSession.OnWorker{T}"/>), where the state lives.
/// </summary>
public static class NotebookCompletion
{
    /// <summary>"complete", "incomplete" (an open block, string or statement: wait for more lines) or "invalid".</summary>
    public static string IsComplete(string code)
    {
        var tree = CSharpSyntaxTree.ParseText(code, NotebookSession.ParseOptions);
        if (!SyntaxFactory.IsCompleteSubmission(tree)) return "incomplete";
        return tree.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error) ? "invalid" : "complete";
    }

    /// <summary>The names that complete the word before <paramref name="cursor"/>, and the span they replace.</summary>
    public static (int Start, int End, IReadOnlyList<string> Matches) Complete(NotebookSession session, string code, int cursor)
    {
        cursor = Math.Clamp(cursor, 0, code.Length);
        var start = cursor;
        while (start > 0 && (char.IsLetterOrDigit(code[start - 1]) || code[start - 1] == '_')) start--;
        var end = cursor;
        while (end < code.Length && (char.IsLetterOrDigit(code[end]) || code[end] == '_')) end++;
        var prefix = code[start..cursor];

        var compilation = session.Continue(code).GetCompilation();
        var tree = compilation.SyntaxTrees.Single();
        var model = compilation.GetSemanticModel(tree);
        IEnumerable<ISymbol> symbols;
        if (start > 0 && code[start - 1] == '.' && tree.GetRoot().FindToken(start - 1).Parent is { } parent && Receiver(parent) is { } receiver)
        {
            // After a dot: the members of the namespace, type or value before it (static members after a type's name).
            var symbol = model.GetSymbolInfo(receiver).Symbol;
            if (symbol is INamespaceOrTypeSymbol container)
                symbols = model.LookupSymbols(start, container).Where(s => s is INamespaceOrTypeSymbol || s.IsStatic);
            else if (model.GetTypeInfo(receiver).Type is { } type)
                symbols = model.LookupSymbols(start, type, includeReducedExtensionMethods: true).Where(s => !s.IsStatic || s is IMethodSymbol { IsExtensionMethod: true });
            else symbols = [];
        }
        else
        {
            symbols = model.LookupSymbols(start);
        }
        var matches = symbols
            .Where(s => s.CanBeReferencedByName && !s.IsImplicitlyDeclared && s.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(s => s.Name)
            .Distinct(StringComparer.Ordinal)
            // Names that start with the prefix as typed first, then alphabetical.
            .OrderBy(n => n.StartsWith(prefix, StringComparison.Ordinal) ? 0 : 1).ThenBy(n => n, StringComparer.OrdinalIgnoreCase)
            .ToArray();
        return (start, end, matches);
    }

    /// <summary>The symbol at <paramref name="cursor"/>: its declaration and its documentation summary, or null.</summary>
    public static string? Inspect(NotebookSession session, string code, int cursor)
    {
        cursor = Math.Clamp(cursor, 0, code.Length);
        var compilation = session.Continue(code).GetCompilation();
        var tree = compilation.SyntaxTrees.Single();
        var model = compilation.GetSemanticModel(tree);
        var root = tree.GetRoot();
        // The identifier the cursor is in or just after.
        var token = root.FindToken(cursor);
        if (!token.IsKind(SyntaxKind.IdentifierToken) && cursor > 0) token = root.FindToken(cursor - 1);
        if (token.Parent is not { } node) return null;
        var info = model.GetSymbolInfo(node);
        var symbol = info.Symbol ?? info.CandidateSymbols.FirstOrDefault() ?? model.GetDeclaredSymbol(node);
        if (symbol is null) return null;
        var text = symbol.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat);
        var kind = symbol switch
        {
            ILocalSymbol local => $"(local) {local.Type.ToDisplayString()} {local.Name}",
            IFieldSymbol { ContainingType.IsScriptClass: true } field => $"(variable) {field.Type.ToDisplayString()} {field.Name}",
            _ => $"({symbol.Kind.ToString().ToLowerInvariant()}) {text}",
        };
        if (symbol is IMethodSymbol { MethodKind: not MethodKind.Constructor } && info.CandidateSymbols.Length > 1)
            kind += $"\n(+{info.CandidateSymbols.Length - 1} overloads)";
        var summary = Summary(symbol.GetDocumentationCommentXml());
        return summary is null ? kind : $"{kind}\n\n{summary}";
    }

    private static ExpressionSyntax? Receiver(SyntaxNode node) => node switch
    {
        MemberAccessExpressionSyntax access => access.Expression,
        QualifiedNameSyntax qualified => qualified.Left,
        MemberBindingExpressionSyntax { Parent.Parent: ConditionalAccessExpressionSyntax conditional } => conditional.Expression,
        _ => null,
    };

    /// <summary>The text of a documentation comment's &lt;summary&gt;, or null.</summary>
    private static string? Summary(string? xml)
    {
        if (string.IsNullOrWhiteSpace(xml)) return null;
        try
        {
            var summary = XElement.Parse(xml).Element("summary");
            if (summary is null) return null;
            var text = string.Concat(summary.Nodes().Select(n => n switch
            {
                XElement { Name.LocalName: "see" or "paramref" or "typeparamref" } e =>
                    (e.Attribute("cref")?.Value ?? e.Attribute("name")?.Value ?? e.Value).Split(':').Last(),
                XElement e => e.Value,
                _ => n.ToString(),
            }));
            return string.Join(" ", text.Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries));
        }
        catch (System.Xml.XmlException)
        {
            return null;
        }
    }
}

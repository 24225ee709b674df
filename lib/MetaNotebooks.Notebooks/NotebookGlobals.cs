namespace MetaNotebooks.Notebooks;

/// <summary>HTML for display, as returned by HTML("…") in Polyglot Notebooks.</summary>
public sealed class HtmlString(string html)
{
    public string Html { get; } = html;
    public override string ToString() => Html;
}

/// <summary>What display(…) returns: the output can be replaced later (progress, a figure redrawn).</summary>
public sealed class DisplayedValue
{
    private readonly Action<object?> update;

    internal DisplayedValue(Action<object?> update) => this.update = update;

    public void Update(object? value) => update(value);
}

/// <summary>
/// The globals a notebook cell sees, with the meaning they have in the C# kernel of Polyglot Notebooks:
/// display(x) adds x to the cell's outputs, HTML(s) makes a value shown as HTML.
/// </summary>
public class NotebookGlobals
{
    private readonly Func<object?, string[], DisplayedValue> displayer;

    internal NotebookGlobals(Func<object?, string[], DisplayedValue> displayer) => this.displayer = displayer;

#pragma warning disable IDE1006 // lower-case names as in Polyglot Notebooks
    /// <summary>Shows a value below the cell (figures as HTML + PNG + Plotly JSON, tables as HTML, the rest as text).</summary>
    public DisplayedValue display(object? value, params string[] mimeTypes) => displayer(value, mimeTypes);

    /// <summary>A value displayed as the given HTML.</summary>
    public HtmlString HTML(string content) => new(content);
#pragma warning restore IDE1006
}

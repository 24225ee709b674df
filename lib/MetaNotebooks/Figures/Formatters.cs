namespace MetaNotebooks.Figures;

// How a figure or a table becomes notebook output. This follows .NET Interactive's convention-based
// formatting: an attribute *named* TypeFormatterSourceAttribute names a class whose CreateTypeFormatters()
// returns objects with a MimeType and a Format(object, TextWriter) method. Polyglot Notebooks matches them by
// name, so the library needs no reference to Microsoft.DotNet.Interactive.Formatting, and `mn notebooks run`
// reads the same attributes. In Polyglot Notebooks only the preferred type (text/html) is asked for; the
// runner asks every formatter, in order, and stores all of them.

[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = true, Inherited = true)]
internal sealed class TypeFormatterSourceAttribute(Type formatterSourceType) : Attribute
{
    public Type FormatterSourceType { get; } = formatterSourceType;
    public string[] PreferredMimeTypes { get; set; } = [];
}

internal sealed class FigureFormatterSource
{
    // The PNG formatter runs first and leaves its image here, so that the HTML can carry it as a fallback
    // for viewers that run no scripts. Keyed by instance: the source may be shared by many figures.
    private (Figure Figure, string Base64)? lastPng;

    public IEnumerable<object> CreateTypeFormatters()
    {
        yield return new Formatter("image/png", o =>
        {
            var figure = (Figure)o;
            var base64 = Convert.ToBase64String(figure.ToPng());
            lastPng = (figure, base64);
            return base64;
        });
        yield return new Formatter("application/vnd.plotly.v1+json", o => ((Figure)o).ToJson());
        yield return new Formatter("text/html", o =>
        {
            var figure = (Figure)o;
            var png = lastPng is { } p && ReferenceEquals(p.Figure, figure) ? p.Base64 : null;
            return figure.ToHtml(PlotlyJsSource.Cdn, png);
        });
        yield return new Formatter("text/plain", o => o.ToString() ?? "");
    }
}

internal sealed class DisplayFormatterSource
{
    public IEnumerable<object> CreateTypeFormatters()
    {
        yield return new Formatter("text/html", o => ((Display)o).Html);
        yield return new Formatter("text/plain", o => ((Display)o).Text);
    }
}

/// <summary>One MIME type of one kind of object, in the shape .NET Interactive expects.</summary>
internal sealed class Formatter(string mimeType, Func<object, string> format)
{
    public string MimeType { get; } = mimeType;

    public bool Format(object instance, TextWriter writer)
    {
        writer.Write(format(instance));
        return true;
    }
}

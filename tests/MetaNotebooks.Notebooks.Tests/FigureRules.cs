using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MetaNotebooks.Figures;
using MetaNotebooks.Results;

namespace MetaNotebooks.Notebooks.Tests;

/// <summary>
/// What every figure must do, checked on its Plotly JSON as drawn at a given width (issue 22): a non-empty title whose
/// lines fit the width, subplot titles that fit their plot, a title on every axis that shows tick labels, legend entries
/// that are names rather than internal ids, heat maps that show their colour scale, and integer data over a short span
/// with integer ticks. Widths are <see cref="TextWidth"/>'s estimates (checked against Chromium in FigureLayoutTests).
/// </summary>
internal static partial class FigureRules
{
    /// <summary>The problems of one figure, each a sentence naming the part; empty when it passes.</summary>
    public static IReadOnlyList<string> Problems(JsonNode figure, double width, IReadOnlyCollection<string> experimentIds)
    {
        var problems = new List<string>();
        var layout = figure["layout"]!.AsObject();
        var data = figure["data"]!.AsArray().OfType<JsonObject>().ToArray();

        var title = layout["title"]?["text"]?.GetValue<string>();
        var titleSize = layout["title"]?["font"]?["size"]?.GetValue<double>() ?? 17;   // Plotly's default title size (1.4 × 12 px)
        if (string.IsNullOrWhiteSpace(title)) problems.Add("no title");
        else
            foreach (var line in TextWidth.Lines(title))
                if (TextWidth.Estimate(line, titleSize) > width - 20)
                    problems.Add($"title line \"{line}\" is ~{TextWidth.Estimate(line, titleSize):0} px at {titleSize:0.#} px, wider than the figure's {width:0} px less 20");

        var margin = layout["margin"];
        var plotWidth = width - (margin?["l"]?.GetValue<double>() ?? 80) - (margin?["r"]?.GetValue<double>() ?? 80) - LegendWidth(layout, data);
        var xAxes = layout.Where(kv => AxisKey().IsMatch(kv.Key) && kv.Key.StartsWith('x')).Select(kv => kv.Value!.AsObject()).ToArray();
        foreach (var a in (layout["annotations"]?.AsArray() ?? []).OfType<JsonObject>())
        {
            // Subplot titles: centred over a plot, in paper coordinates, anchored by their bottom.
            if (a["xref"]?.GetValue<string>() != "paper" || a["yanchor"]?.GetValue<string>() != "bottom") continue;
            var x = a["x"]!.GetValue<double>();
            var axis = xAxes.FirstOrDefault(ax => ax["domain"] is JsonArray d && Math.Abs((d[0]!.GetValue<double>() + d[1]!.GetValue<double>()) / 2 - x) < 0.01);
            if (axis is null) continue;
            var domain = axis["domain"]!.AsArray();
            var room = (domain[1]!.GetValue<double>() - domain[0]!.GetValue<double>()) * plotWidth;
            var size = a["font"]?["size"]?.GetValue<double>() ?? 12;
            foreach (var line in TextWidth.Lines(a["text"]!.GetValue<string>()))
                if (TextWidth.Estimate(line, size) > room + 10)
                    problems.Add($"subplot title \"{line}\" is ~{TextWidth.Estimate(line, size):0} px, wider than its plot's ~{room:0} px");
        }

        foreach (var (key, node) in layout.Where(kv => AxisKey().IsMatch(kv.Key)))
        {
            var axis = node!.AsObject();
            var name = key.Replace("axis", "");                // "xaxis2" → "x2"
            var traces = data.Where(t => (t[key[0] + "axis"]?.GetValue<string>() ?? key[0].ToString()) == name).ToArray();
            if (traces.Length == 0 || axis["visible"]?.GetValue<bool>() == false || axis["showticklabels"]?.GetValue<bool>() == false) continue;
            if (string.IsNullOrWhiteSpace(axis["title"]?["text"]?.GetValue<string>())) problems.Add($"{key} has tick labels but no title");
            if (axis["type"]?.GetValue<string>() == "log" || axis["dtick"] is not null || axis["tickvals"] is not null) continue;
            var values = traces.Where(t => t["type"]?.GetValue<string>() == "scatter").SelectMany(t => Numbers(t[key[0].ToString()])).ToArray();
            if (values.Length > 1 && values.All(v => v == Math.Round(v)) && values.Distinct().Count() > 1 && values.Max() - values.Min() <= 10)
                problems.Add($"{key} shows whole-number data ({values.Min():0}…{values.Max():0}) without integer ticks (Plotly puts ticks at halves)");
        }

        foreach (var t in data)
        {
            var name = t["name"]?.GetValue<string>();
            if (name is not null && t["showlegend"]?.GetValue<bool>() != false && SeriesNames.IsInternalId(name, experimentIds))
                problems.Add($"legend entry \"{name}\" is an internal id, not a name (see SeriesNames)");
            // A continuous heat map must show its scale; image grids (hoverinfo "skip") and class maps (a colour list) need none.
            if (t["type"]?.GetValue<string>() == "heatmap" && t["hoverinfo"]?.GetValue<string>() != "skip" && t["colorscale"] is JsonValue
                && t["showscale"]?.GetValue<bool>() == false)
                problems.Add($"heat map \"{name ?? "(unnamed)"}\" hides its colour scale: a reader cannot tell what range the colours span");
        }
        return problems;
    }

    /// <summary>A legend on the right takes room from the plots (Plotly shows one for two or more entries).</summary>
    private static double LegendWidth(JsonObject layout, JsonObject[] data)
    {
        if (layout["showlegend"]?.GetValue<bool>() == false || layout["legend"]?["orientation"]?.GetValue<string>() == "h") return 0;
        var names = data.Where(t => t["showlegend"]?.GetValue<bool>() != false && t["name"] is not null).Select(t => t["name"]!.GetValue<string>()).ToArray();
        return names.Length > 1 ? names.Max(n => TextWidth.Estimate(n, 12)) + 50 : 0;
    }

    private static IEnumerable<double> Numbers(JsonNode? node) =>
        node is JsonArray a ? a.OfType<JsonValue>().Select(v => v.TryGetValue<double>(out var d) ? d : double.NaN).Where(double.IsFinite) : [];

    [GeneratedRegex("^[xy]axis[0-9]*$")]
    private static partial Regex AxisKey();
}

using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MetaNotebooks.Notebooks.Tests;

/// <summary>
/// What a reader of the chapters notices at once and a machine can check: text copied from one chapter into another
/// (a caption that describes one figure is wrong under the next), and equation numbers that point nowhere.
/// </summary>
public partial class ChapterTextTests
{
    /// <summary>A chapter's number (the file's two leading digits) and the text of its markdown and code cells.</summary>
    private sealed record Chapter(int Number, string File, IReadOnlyList<string> Markdown, IReadOnlyList<string> Code);

    private static IReadOnlyList<Chapter> Chapters() =>
        Directory.GetFiles(Repository.Notebooks, "*.ipynb").Order(StringComparer.Ordinal).Select(path =>
        {
            var cells = JsonNode.Parse(File.ReadAllText(path))!["cells"]!.AsArray();
            string[] Sources(string type) => cells.Where(c => c!["cell_type"]!.GetValue<string>() == type)
                .Select(c => string.Concat(c!["source"]!.AsArray().Select(l => l!.GetValue<string>()))).ToArray();
            var name = Path.GetFileName(path);
            return new Chapter(int.Parse(name[..2]), name, Sources("markdown"), Sources("code"));
        }).ToList();

    /// <summary>Lower case, markdown markup and repeated white space removed: the words a reader reads.</summary>
    internal static string Normalise(string text) => Whitespace().Replace(Markup().Replace(text, " "), " ").Trim().ToLowerInvariant();

    /// <summary>Paragraphs (blank-line separated) of at least `minWords` words, and sentences of at least `minSentenceWords`, normalised.</summary>
    internal static IEnumerable<string> Passages(string markdown, int minWords = 20, int minSentenceWords = 15)
    {
        foreach (var paragraph in BlankLine().Split(markdown).Select(Normalise))
        {
            if (WordCount(paragraph) >= minWords) yield return paragraph;
            foreach (var sentence in SentenceEnd().Split(paragraph))
                if (WordCount(sentence) >= minSentenceWords && sentence != paragraph) yield return sentence;
        }
    }

    private static int WordCount(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    [Fact]
    public void NoTwoChaptersShareAParagraphOrALongSentence()
    {
        var owners = new Dictionary<string, SortedSet<string>>();
        foreach (var chapter in Chapters())
            foreach (var passage in chapter.Markdown.SelectMany(m => Passages(m)))
                (owners.TryGetValue(passage, out var set) ? set : owners[passage] = []).Add(chapter.File);
        var shared = owners.Where(o => o.Value.Count > 1).Select(o => $"{string.Join(" and ", o.Value)}: \"{o.Key}\"").ToList();
        Assert.True(shared.Count == 0, "Text copied between chapters (describe each chapter's own figure or result instead):\n" + string.Join("\n", shared));
    }

    [Fact]
    public void TheDuplicateCheckFindsACopiedCaptionInOtherWords()
    {
        // The check must see through markup and line breaks: the same caption once plain, once wrapped and emphasised.
        var a = Passages("With rotations as classes, a character and its rotation by 90° or 180° are different classes; similar strokes in a different orientation are a frequent confusion.");
        var b = Passages("With *rotations* as classes, a character and its rotation\nby 90° or 180° are different classes; similar strokes in a different orientation are a frequent confusion.");
        Assert.NotEmpty(a.Intersect(b));
        Assert.Empty(Passages("A short caption of ten words is allowed to repeat anywhere."));
    }

    /// <summary>
    /// Chapter N numbers its displayed equations \tag{N.k}, each once; every "(N.k)" or "Eq. N.k" in any chapter's text or
    /// code comments names an equation that chapter N tags. The paper's own numbers are written "the paper's Eq. 2".
    /// </summary>
    [Fact]
    public void EquationNumbersAreTheChaptersOwnAndEveryReferenceResolves()
    {
        var chapters = Chapters();
        var problems = new List<string>();
        var tags = new Dictionary<int, HashSet<string>>();
        foreach (var chapter in chapters)
        {
            var all = chapter.Markdown.SelectMany(m => Tag().Matches(m)).Select(m => m.Groups[1].Value.Trim()).ToList();
            foreach (var tag in all.Where(t => !ChapterNumber().IsMatch(t) || int.Parse(t.Split('.')[0]) != chapter.Number))
                problems.Add($"{chapter.File}: \\tag{{{tag}}} is not numbered N.k with N = {chapter.Number} (write the paper's number in the text beside it)");
            foreach (var twice in all.GroupBy(t => t).Where(g => g.Count() > 1))
                problems.Add($"{chapter.File}: \\tag{{{twice.Key}}} appears {twice.Count()} times");
            tags[chapter.Number] = all.ToHashSet();
        }
        foreach (var chapter in chapters)
            foreach (var text in chapter.Markdown.Concat(chapter.Code))
                foreach (Match reference in Reference().Matches(text))
                {
                    var number = reference.Groups["n"].Value;
                    var target = int.Parse(number.Split('.')[0]);
                    // Only chapters that number equations are checked: "(0.5)" in a chapter without equations is a number, not a reference.
                    if (tags.TryGetValue(target, out var known) && known.Count > 0 && !known.Contains(number))
                        problems.Add($"{chapter.File}: \"{reference.Value}\" refers to ({number}), which chapter {target} does not tag (it tags {string.Join(", ", known.Order())})");
                }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void TheReferenceCheckReadsBothForms()
    {
        Assert.Equal(["2.3", "7.1", "4.2"], Reference().Matches("from (2.3), as in Eq. 7.1 and Eqs. 4.2–4.3").Select(m => m.Groups["n"].Value).Take(3));
        Assert.Empty(Reference().Matches("dropout (0.5 of the pixels), the paper's Eq. 2, 1.5 h"));   // not references
        Assert.Equal("2.1", Tag().Match(@"$$L = \frac{1}{n} \sum (f(x) - y)^2 \tag{2.1}$$").Groups[1].Value);
    }

    [GeneratedRegex(@"[`*_#>|\\$]")] private static partial Regex Markup();
    [GeneratedRegex(@"\s+")] private static partial Regex Whitespace();
    [GeneratedRegex(@"\n[ \t]*\n")] private static partial Regex BlankLine();
    [GeneratedRegex(@"(?<=[.!?;:])\s+")] private static partial Regex SentenceEnd();
    [GeneratedRegex(@"\\tag\{([^}]*)\}")] private static partial Regex Tag();
    [GeneratedRegex(@"^\d+\.\d+$")] private static partial Regex ChapterNumber();
    /// <summary>"(N.k)" with N a single digit and k an integer, or "Eq. N.k" / "Eqs. N.k"; decimals like 0.5 of a quantity have no parentheses of their own.</summary>
    [GeneratedRegex(@"\((?<n>\d\.\d{1,2})\)|Eqs?\.\s*(?<n>\d\.\d{1,2})")] private static partial Regex Reference();
}

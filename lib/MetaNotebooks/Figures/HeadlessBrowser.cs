using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace MetaNotebooks.Figures;

/// <summary>A figure could not be drawn: Chromium or plotly.js is missing, or Chromium failed.</summary>
public sealed class FigureRenderException(string message) : InvalidOperationException(message);

/// <summary>Where plotly.js (npm package plotly.js-dist-min, installed by `./mn setup`) is.</summary>
public static class PlotlyJs
{
    /// <summary>The npm package the set-up installs; the CDN link of HTML figures names the same version.</summary>
    public const string Package = "plotly.js-dist-min";

    /// <summary>Used for the CDN link when no local copy tells its version; environment.json pins the same.</summary>
    public const string PinnedVersion = "4.1.2";

    /// <summary>The installed version if a local copy is found, else <see cref="PinnedVersion"/>.</summary>
    public static string Version
    {
        get
        {
            var file = FindLocal();
            if (file is null) return PinnedVersion;
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(file)!, "package.json")));
                return doc.RootElement.GetProperty("version").GetString() ?? PinnedVersion;
            }
            catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException)
            {
                return PinnedVersion;
            }
        }
    }

    public static string CdnUrl => $"https://cdn.jsdelivr.net/npm/{Package}@{Version}/plotly.min.js";

    /// <summary>The places looked at, in order (see <see cref="NpmPackages.Candidates"/>).</summary>
    public static IEnumerable<string> Candidates() => NpmPackages.Candidates(Package).Select(d => Path.Combine(d, "plotly.min.js"));

    public static string? FindLocal() => Candidates().FirstOrDefault(File.Exists);

    public static string RequireLocal() =>
        FindLocal() ?? throw new FigureRenderException(
            $"plotly.js was not found (npm package {Package}; looked in $MN_NPM_PREFIX and in .local/npm/node_modules/{Package}/ " +
            "above the working directory). " + NpmPackages.HowToInstall(Package, PinnedVersion));
}

/// <summary>Headless Chromium (Debian package `chromium`), used to draw figures as PNG.</summary>
public static class HeadlessBrowser
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>$MN_CHROMIUM, else the first of chromium, chromium-browser, google-chrome on PATH.</summary>
    public static string? Find()
    {
        var configured = Environment.GetEnvironmentVariable("MN_CHROMIUM");
        if (!string.IsNullOrEmpty(configured)) return File.Exists(configured) ? configured : null;
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (var name in new[] { "chromium", "chromium-browser", "google-chrome", "google-chrome-stable" })
            foreach (var dir in path)
            {
                var file = Path.Combine(dir, name);
                if (File.Exists(file)) return file;
            }
        return null;
    }

    public static string Require() =>
        Find() ?? throw new FigureRenderException(
            "Chromium was not found (looked at $MN_CHROMIUM and for chromium, chromium-browser, google-chrome on PATH). " +
            "Run `./mn setup` to install it (Debian package `chromium`).");

    /// <summary>Loads the page in headless Chromium at width × height and writes a PNG screenshot to pngPath (temp file, then rename).</summary>
    public static void Screenshot(string pageHtml, string pngPath, int width, int height)
    {
        var chromium = Require();
        var target = Path.GetFullPath(pngPath);
        var targetDir = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(targetDir);
        var work = Directory.CreateTempSubdirectory("mn-chromium-");
        // In the target's folder, so that the final rename is atomic.
        var partial = Path.Combine(targetDir, $".{Path.GetFileName(target)}.{Environment.ProcessId}-{Guid.NewGuid():N}.tmp.png");
        try
        {
            var page = Path.Combine(work.FullName, "figure.html");
            File.WriteAllText(page, pageHtml, new UTF8Encoding(false));
            var psi = new ProcessStartInfo(chromium)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = work.FullName,
            };
            foreach (var arg in new[]
                     {
                         "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-extensions", "--hide-scrollbars", "--mute-audio", "--force-device-scale-factor=1",
                         $"--user-data-dir={Path.Combine(work.FullName, "profile")}",
                         // Virtual time runs the page's timers to completion, so plotly has drawn when the shot is taken.
                         "--virtual-time-budget=10000",
                         $"--window-size={width},{height}",
                         $"--screenshot={partial}",
                         new Uri(page).AbsoluteUri,
                     })
                psi.ArgumentList.Add(arg);
            using var process = Process.Start(psi) ?? throw new FigureRenderException($"Could not start {chromium}.");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                throw new FigureRenderException($"Chromium did not finish drawing a figure within {Timeout.TotalSeconds:0} s.");
            }
            process.WaitForExit();
            var log = stderr.Result + stdout.Result;
            if (process.ExitCode != 0 || !File.Exists(partial) || new FileInfo(partial).Length == 0)
                throw new FigureRenderException(
                    $"Chromium ({chromium}) exited with code {process.ExitCode} without writing a screenshot. Its output ends with:\n{Tail(log, 1500)}");
            File.Move(partial, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(partial)) File.Delete(partial);
            try { work.Delete(recursive: true); }
            catch (IOException) { /* Chromium may still hold a profile file for a moment; the temp folder is only litter. */ }
        }
    }

    private static string Tail(string s, int n) => s.Length <= n ? s : "…" + s[^n..];
}

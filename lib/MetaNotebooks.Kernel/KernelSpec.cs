using System.Text.Json.Nodes;
using MetaNotebooks.Notebooks;

namespace MetaNotebooks.Kernel;

/// <summary>
/// The kernelspec that lets every Jupyter front end start this kernel: DIR/share/jupyter/kernels/metanotebooks-csharp/
/// with kernel.json (how to start it: `dotnet mn.dll kernel {connection_file}`) and the logos, where DIR is what
/// `jupyter kernelspec install` means by --user, --prefix or (neither) the system.
/// </summary>
public static class KernelSpec
{
    public const string Name = NotebookDocument.KernelName;

    /// <summary>The kernels folder for --user (JUPYTER_DATA_DIR, else XDG_DATA_HOME/jupyter, else ~/.local/share/jupyter), --prefix DIR, or the system's.</summary>
    public static string KernelsFolder(bool user, string? prefix)
    {
        if (prefix is not null) return Path.Combine(Path.GetFullPath(prefix), "share", "jupyter", "kernels");
        if (!user) return "/usr/local/share/jupyter/kernels";
        var data = Environment.GetEnvironmentVariable("JUPYTER_DATA_DIR");
        if (string.IsNullOrEmpty(data))
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
            data = Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share") : xdg, "jupyter");
        }
        return Path.Combine(data, "kernels");
    }

    /// <summary>
    /// The runtime setting the kernel starts with: tiered compilation off. Roslyn's NuGet assemblies are IL only (not
    /// ReadyToRun), and the runtime promotes a method past its unoptimised first JIT only after 100 ms without new
    /// first-time JIT work, which never comes while cells arrive back to back (each cell is a new assembly): the compiler
    /// stayed unoptimised and a trivial cell cost ~15 ms of CPU instead of ~9 (`mn bench kernel`; MN_TRACE_PHASES shows
    /// it in the compile phase). The price is the compiler's first, optimising JIT: seconds on the first cell, which the
    /// warm-up after kernel_info pays in the background (<see cref="NotebookSession.WarmUp"/>).
    /// </summary>
    public const string TieredCompilationVariable = "DOTNET_TieredCompilation";

    /// <summary>kernel.json: starts the built mn.dll with the dotnet that runs this process.</summary>
    public static JsonObject KernelJson(string mnDll) => new()
    {
        ["argv"] = new JsonArray(DotnetHost(), mnDll, "kernel", "{connection_file}"),
        ["display_name"] = KernelInfo.DisplayName,
        ["language"] = KernelInfo.Language,
        ["interrupt_mode"] = "message",
        ["env"] = new JsonObject { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1", [TieredCompilationVariable] = "0" },
        ["metadata"] = new JsonObject { ["debugger"] = false },
    };

    /// <summary>Writes the kernelspec (replacing an older one of this name); returns its folder.</summary>
    public static string Install(string kernelsFolder, string mnDll)
    {
        if (!File.Exists(mnDll)) throw new FileNotFoundException($"The built mn.dll is not at {mnDll}; run ./mn build first.", mnDll);
        var folder = Path.Combine(kernelsFolder, Name);
        var staging = Path.Combine(kernelsFolder, $".{Name}.{Environment.ProcessId}.tmp");
        try
        {
            Directory.CreateDirectory(staging);
        }
        catch (UnauthorizedAccessException)
        {
            throw new IOException($"cannot write to {kernelsFolder}: install for this user with --user, or into an environment with --prefix DIR.");
        }
        File.WriteAllText(Path.Combine(staging, "kernel.json"), KernelJson(Path.GetFullPath(mnDll)).ToJsonString(new() { WriteIndented = true }) + "\n");
        foreach (var logo in new[] { "logo-32x32.png", "logo-64x64.png", "logo-svg.svg" })
        {
            using var resource = typeof(KernelSpec).Assembly.GetManifestResourceStream(logo)
                ?? throw new InvalidOperationException($"the kernel's logo {logo} is missing from the assembly (a build problem).");
            using var file = File.Create(Path.Combine(staging, logo));
            resource.CopyTo(file);
        }
        // Whole or nothing: the new spec replaces the old one only once it is written.
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.Move(staging, folder);
        return folder;
    }

    /// <summary>Removes the kernelspec; false when there was none.</summary>
    public static bool Uninstall(string kernelsFolder)
    {
        var folder = Path.Combine(kernelsFolder, Name);
        if (!File.Exists(Path.Combine(folder, "kernel.json"))) return false;
        Directory.Delete(folder, recursive: true);
        return true;
    }

    /// <summary>The dotnet host running this process (so the kernel starts with the same runtime), else "dotnet" on the PATH.</summary>
    private static string DotnetHost()
    {
        var host = Environment.ProcessPath;
        return host is not null && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
    }
}

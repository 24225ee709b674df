using MetaNotebooks.Kernel;

namespace MetaNotebooks.Cli.Commands;

/// <summary>`mn kernel &lt;connection-file&gt;` (started by a Jupyter front end), `mn kernel install|uninstall [--user | --prefix DIR]`.</summary>
public sealed class KernelCommand : ICommand
{
    public string Name => "kernel";

    public string Summary => "the Jupyter kernel \"C# (MetaNotebooks)\" for VS Code, JupyterLab, nbclient: install, uninstall, or run";

    private const string Usage =
        "usage:\n" +
        "  mn kernel install [--user | --prefix DIR]\n" +
        "      writes the kernelspec 'metanotebooks-csharp' (as `jupyter kernelspec install`: --user into\n" +
        "      ~/.local/share/jupyter/kernels, --prefix DIR into DIR/share/jupyter/kernels, neither: system-wide).\n" +
        "  mn kernel uninstall [--user | --prefix DIR]\n" +
        "  mn kernel <connection-file>\n" +
        "      runs the kernel (what a front end does, through kernel.json).";

    public int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        switch (args[0])
        {
            case "install":
            {
                var folder = KernelSpec.Install(Folder(args[1..]), Path.Combine(AppContext.BaseDirectory, "mn.dll"));
                Console.WriteLine($"installed the kernel \"{KernelInfo.DisplayName}\" ({KernelSpec.Name}) in {folder}");
                return 0;
            }
            case "uninstall":
            {
                var kernels = Folder(args[1..]);
                Console.WriteLine(KernelSpec.Uninstall(kernels)
                    ? $"removed {Path.Combine(kernels, KernelSpec.Name)}"
                    : $"no kernel {KernelSpec.Name} in {kernels}; nothing removed");
                return 0;
            }
            case var a when a.StartsWith('-'):
                throw new UsageException($"unknown option '{a}'.\n{Usage}");
            default:
                if (args.Length > 1) throw new UsageException($"the kernel takes one connection file.\n{Usage}");
                using (var server = new KernelServer(ConnectionFile.Load(args[0]), Console.Error))
                    return server.Run();
        }
    }

    private static string Folder(string[] args)
    {
        bool user = false;
        string? prefix = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--user": user = true; break;
                case "--prefix": prefix = i + 1 < args.Length ? args[++i] : throw new UsageException("--prefix needs a folder."); break;
                default: throw new UsageException($"unknown option '{args[i]}'.\n{Usage}");
            }
        }
        if (user && prefix is not null) throw new UsageException("give --user or --prefix, not both.");
        return KernelSpec.KernelsFolder(user, prefix);
    }
}

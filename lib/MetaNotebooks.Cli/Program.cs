using System.Reflection;
using MetaNotebooks.Cli;
using MetaNotebooks.Torch;

var commands = typeof(ICommand).Assembly.GetTypes()
    .Where(t => typeof(ICommand).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false })
    .Select(t => (ICommand)Activator.CreateInstance(t)!)
    .OrderBy(c => c.Name)
    .ToDictionary(c => c.Name);

if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
{
    Console.WriteLine("usage: mn <command> [options]\n\ncommands:");
    foreach (var c in commands.Values) Console.WriteLine($"  {c.Name,-12} {c.Summary}");
    return args.Length == 0 ? 2 : 0;
}

if (!commands.TryGetValue(args[0], out var command))
{
    Console.Error.WriteLine($"mn: unknown command '{args[0]}'. Commands: {string.Join(", ", commands.Keys)}.");
    return 2;
}

// Temp files that killed runs left (`<file>.tmp-<pid>-<guid>`, some hundreds of MB): removed when their process is gone.
if (MetaNotebooks.RepositoryRoot.TryFind() is { } root)
    foreach (var stale in MetaNotebooks.Results.StaleTempFiles.Clean(MetaNotebooks.Results.StaleTempFiles.WrittenFolders(root)))
        Console.Error.WriteLine($"mn: removed {Path.GetRelativePath(root, stale)}, left by a process that no longer runs.");

// Reuse freed memory instead of page-faulting fresh mmaps for every large tensor (see set_keep_freed_memory).
torch.set_keep_freed_memory(true);

try
{
    return command.Run(args[1..]);
}
catch (UsageException e)
{
    Console.Error.WriteLine($"mn {command.Name}: {e.Message}");
    return 2;
}
catch (TorchException e)
{
    Console.Error.WriteLine($"mn {command.Name}: libtorch error in {e.Operation}: {e.TorchMessage}");
    return 1;
}
catch (Exception e) when (e is IOException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException or ArgumentException or InvalidOperationException)
{
    Console.Error.WriteLine($"mn {command.Name}: {e.Message}");
    return 1;
}

namespace MetaNotebooks.Cli;

/// <summary>One verb of the `mn` command (`mn reproduce`, `mn notebooks`, …). Found by reflection: add a class, it is listed.</summary>
public interface ICommand
{
    /// <summary>The verb typed after `mn`.</summary>
    string Name { get; }

    /// <summary>One line for `mn help`.</summary>
    string Summary { get; }

    /// <summary>Runs with the arguments after the verb; returns the process exit code.</summary>
    int Run(string[] args);
}

/// <summary>A bad option or argument: printed as a message with the usage, exit code 2, no stack trace.</summary>
public sealed class UsageException(string message) : Exception(message);

namespace MetaNotebooks.Torch;

/// <summary>
/// Disposes, at its end, every tensor made on this thread while it was the innermost scope, except those moved
/// out (<see cref="MoveToOuter"/>, <see cref="Tensor.MoveToOuterDisposeScope"/>) or detached
/// (<see cref="Tensor.DetachFromDisposeScope"/>). Created by <c>torch.NewDisposeScope()</c>.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? current;
    private readonly DisposeScope? outer;
    private readonly List<Tensor> tensors = new();
    private bool disposed;

    internal DisposeScope()
    {
        outer = current;
        current = this;
    }

    internal static DisposeScope? Current => current;

    /// <summary>Number of tensors this scope will dispose.</summary>
    public int Count => tensors.Where(t => ReferenceEquals(t.OwningScope, this) && !t.IsDisposed).Distinct().Count();

    internal void Add(Tensor t)
    {
        t.JoinScope(this);
        tensors.Add(t);
    }

    /// <summary>Hands the tensors to the enclosing scope (or to no scope) so they outlive this one.</summary>
    public void MoveToOuter(params Tensor[] ts)
    {
        foreach (var t in ts) MoveToOuter(t);
    }

    internal void MoveToOuter(Tensor t)
    {
        if (!ReferenceEquals(t.OwningScope, this)) return;
        if (outer != null) outer.Add(t);
        else t.LeaveScopes();
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        // Normally this is the innermost scope; if an inner one was left open, it is unlinked as well so that
        // new tensors do not join a finished scope.
        for (var s = current; s != null; s = s.outer)
            if (ReferenceEquals(s, this)) { current = outer; break; }
        foreach (var t in tensors)
            if (ReferenceEquals(t.OwningScope, this)) t.Dispose();
        tensors.Clear();
    }
}

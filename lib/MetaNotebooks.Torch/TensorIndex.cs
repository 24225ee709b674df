namespace MetaNotebooks.Torch;

/// <summary>One position of a Python-style index: an integer, a slice (C# Range or Slice with a step), ..., None or a tensor.</summary>
public sealed class TensorIndex
{
    internal enum IndexKind { Single, Slice, Ellipsis, None, Tensor }

    internal IndexKind Kind { get; private init; }
    internal long Value { get; private init; }
    internal bool ValueFromEnd { get; private init; }
    internal long? Start { get; private init; }
    internal bool StartFromEnd { get; private init; }
    internal long? Stop { get; private init; }
    internal long Step { get; private init; } = 1;
    internal Tensor? Index { get; private init; }

    public static readonly TensorIndex Ellipsis = new() { Kind = IndexKind.Ellipsis };
    public static readonly TensorIndex None = new() { Kind = IndexKind.None };
    /// <summary>start:stop:step as in Python (negative start/stop count from the end; null is open).</summary>
    public static TensorIndex Slice(long? start = null, long? stop = null, long step = 1) => new() { Kind = IndexKind.Slice, Start = start, Stop = stop, Step = step };

    public static implicit operator TensorIndex(long i) => new() { Kind = IndexKind.Single, Value = i };
    public static implicit operator TensorIndex(int i) => new() { Kind = IndexKind.Single, Value = i };
    /// <summary>^k is the k-th element from the end (^1 the last, ^0 past the end: an error, as in C#).</summary>
    public static implicit operator TensorIndex(Index i) => new() { Kind = IndexKind.Single, Value = i.Value, ValueFromEnd = i.IsFromEnd };
    public static implicit operator TensorIndex(Tensor t) => new() { Kind = IndexKind.Tensor, Index = t };
    public static implicit operator TensorIndex(Range r) => new()
    {
        Kind = IndexKind.Slice,
        Start = r.Start.IsFromEnd ? -r.Start.Value : r.Start.Value,
        StartFromEnd = r.Start.IsFromEnd && r.Start.Value == 0, // ^0.. is empty
        Stop = r.End.IsFromEnd ? (r.End.Value == 0 ? null : -r.End.Value) : r.End.Value,
    };

    /// <summary>Number of dims of the indexed tensor this index consumes.</summary>
    private int Consumes => Kind switch
    {
        IndexKind.Single or IndexKind.Slice => 1,
        IndexKind.Tensor => Index!.dtype is ScalarType.Bool or ScalarType.Byte ? Math.Max(1, Index.dim()) : 1,
        _ => 0,
    };

    /// <summary>
    /// PyTorch's indexing: integers, slices, None and ... make a view (basic indexing); then every tensor index is
    /// applied in one advanced-indexing step (so t[i, j] pairs the indices, as in PyTorch). Returns the basic view
    /// and, when there are tensor indices, one entry per view dim (a tensor, or null for a whole dim).
    /// </summary>
    private static (Tensor view, List<Tensor?>? advanced) Basic(Tensor t, TensorIndex[] indices)
    {
        if (indices.Count(i => i.Kind == IndexKind.Ellipsis) > 1) throw new TorchException("index", "an index can only have a single ellipsis ('...')");
        var consumed = indices.Sum(i => i.Consumes);
        if (consumed > t.dim()) throw new TorchException("index", $"too many indices for tensor of dimension {t.dim()}");
        var result = t;
        long dim = 0;
        List<Tensor?>? entries = null;
        var positional = new List<Tensor?>();
        try
        {
            foreach (var i in indices)
            {
                Tensor? next = null;
                switch (i.Kind)
                {
                    case IndexKind.Single:
                        var v = i.ValueFromEnd ? result.size((int)dim) - i.Value : i.Value;
                        next = result.select(dim, v);
                        break;
                    case IndexKind.Slice:
                        var start = i.StartFromEnd ? result.size((int)dim) : i.Start;
                        next = result.slice(dim, start, i.Stop, i.Step);
                        positional.Add(null);
                        dim++;
                        break;
                    case IndexKind.None:
                        next = result.unsqueeze(dim);
                        positional.Add(null);
                        dim++;
                        break;
                    case IndexKind.Ellipsis:
                        for (var k = 0; k < t.dim() - consumed; k++) positional.Add(null);
                        dim += t.dim() - consumed;
                        break;
                    default:
                        entries = positional;
                        positional.Add(i.Index);
                        dim += i.Consumes;
                        break;
                }
                if (next is null) continue;
                if (!ReferenceEquals(result, t)) result.Dispose();
                result = next;
            }
        }
        catch
        {
            if (!ReferenceEquals(result, t)) result.Dispose();
            throw;
        }
        if (entries != null)
            while (entries.Count > 0 && entries[^1] is null) entries.RemoveAt(entries.Count - 1);
        return (result, entries);
    }

    internal static unsafe Tensor Apply(Tensor t, TensorIndex[] indices)
    {
        var (view, advanced) = Basic(t, indices);
        if (advanced is null) return ReferenceEquals(view, t) ? t.Alias() : view;
        try
        {
            var hs = advanced.Select(x => x?.Handle ?? IntPtr.Zero).ToArray();
            fixed (IntPtr* p = hs)
            {
                var r = Tensor.Result(Native.mn_index(view.Handle, p, hs.Length, out var h), h, "index", view);
                GC.KeepAlive(advanced);
                return r;
            }
        }
        finally
        {
            if (!ReferenceEquals(view, t)) view.Dispose();
        }
    }

    /// <summary>t[indices] = value: copied into the basic view, or index_put_ when there are tensor indices.</summary>
    internal static unsafe void Assign(Tensor t, TensorIndex[] indices, Tensor value)
    {
        var (view, advanced) = Basic(t, indices);
        try
        {
            if (advanced is null)
            {
                view.copy_(value);
                return;
            }
            var hs = advanced.Select(x => x?.Handle ?? IntPtr.Zero).ToArray();
            fixed (IntPtr* p = hs)
                Tensor.Done(Native.mn_index_put(view.Handle, p, hs.Length, value.Handle, 0), "index_put_", view, value);
            GC.KeepAlive(advanced);
        }
        finally
        {
            if (!ReferenceEquals(view, t)) view.Dispose();
        }
    }
}

namespace MetaNotebooks.Torch;

/// <summary>One position of a Python-style index: an integer, a slice (C# Range or Slice with a step), ..., None or a tensor.</summary>
public sealed class TensorIndex
{
    internal enum IndexKind { Single, Slice, Ellipsis, None, Tensor }

    internal IndexKind Kind { get; private init; }
    internal long Value { get; private init; }
    internal long? Start { get; private init; }
    internal long? Stop { get; private init; }
    internal long Step { get; private init; } = 1;
    internal Tensor? Index { get; private init; }

    public static readonly TensorIndex Ellipsis = new() { Kind = IndexKind.Ellipsis };
    public static readonly TensorIndex None = new() { Kind = IndexKind.None };
    public static TensorIndex Slice(long? start = null, long? stop = null, long step = 1) => new() { Kind = IndexKind.Slice, Start = start, Stop = stop, Step = step };

    public static implicit operator TensorIndex(long i) => new() { Kind = IndexKind.Single, Value = i };
    public static implicit operator TensorIndex(int i) => new() { Kind = IndexKind.Single, Value = i };
    public static implicit operator TensorIndex(Index i) => new() { Kind = IndexKind.Single, Value = i.IsFromEnd ? -i.Value : i.Value };
    public static implicit operator TensorIndex(Tensor t) => new() { Kind = IndexKind.Tensor, Index = t };
    public static implicit operator TensorIndex(Range r) => new()
    {
        Kind = IndexKind.Slice,
        Start = r.Start.IsFromEnd ? -r.Start.Value : r.Start.Value,
        Stop = r.End.IsFromEnd ? (r.End.Value == 0 ? null : -r.End.Value) : r.End.Value,
    };

    internal static Tensor Apply(Tensor t, TensorIndex[] indices)
    {
        var consumed = indices.Count(i => i.Kind is IndexKind.Single or IndexKind.Slice or IndexKind.Tensor);
        if (indices.Count(i => i.Kind == IndexKind.Ellipsis) > 1) throw new TorchException("index", "an index can only have a single ellipsis ('...')");
        if (consumed > t.dim()) throw new TorchException("index", $"too many indices for tensor of dimension {t.dim()}");
        var result = t;
        long dim = 0;
        var intermediates = new List<Tensor>();
        foreach (var i in indices)
        {
            Tensor next;
            switch (i.Kind)
            {
                case IndexKind.Single: next = result.select(dim, i.Value); break;
                case IndexKind.Slice: next = result.slice(dim, i.Start, i.Stop, i.Step); dim++; break;
                case IndexKind.None: next = result.unsqueeze(dim); dim++; break;
                case IndexKind.Ellipsis: dim += t.dim() - consumed; continue;
                default: next = result.index(i.Index!, dim); dim += i.Index!.dtype == ScalarType.Bool ? 1 : i.Index!.dim(); break;
            }
            if (!ReferenceEquals(result, t)) intermediates.Add(result);
            result = next;
        }
        foreach (var x in intermediates) x.Dispose();
        return ReferenceEquals(result, t) ? t.Alias() : result;
    }
}

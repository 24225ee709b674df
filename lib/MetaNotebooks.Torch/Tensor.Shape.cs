namespace MetaNotebooks.Torch;

// Views, reshaping, joining, splitting and indexing (native/src/shape.cpp).
public sealed partial class Tensor
{
    private unsafe Tensor ShapeOp(int op, long[] v, string name)
    {
        fixed (long* p = v) return Result(Native.mn_shape_op(op, Handle, p, v.Length, out var r), r, name, this);
    }

    private Tensor DimsOp(int op, long d0, long d1, string name) => Result(Native.mn_dims_op(op, Handle, d0, d1, out var r), r, name, this);

    public Tensor reshape(params long[] shape) => ShapeOp(0, shape, "reshape");
    public Tensor view(params long[] shape) => ShapeOp(1, shape, "view");
    public Tensor permute(params long[] dims) => ShapeOp(2, dims, "permute");
    public Tensor expand(params long[] shape) => ShapeOp(3, shape, "expand");
    public Tensor expand_as(Tensor other) => expand(other.Shape);
    public Tensor repeat(params long[] repeats) => ShapeOp(4, repeats, "repeat");
    public Tensor flip(params long[] dims) => ShapeOp(5, dims, "flip");
    public Tensor view_as(Tensor other) => view(other.Shape);
    public Tensor reshape_as(Tensor other) => reshape(other.Shape);

    public Tensor transpose(long dim0, long dim1) => DimsOp(0, dim0, dim1, "transpose");
    public Tensor squeeze() => DimsOp(1, long.MinValue, 0, "squeeze");
    public Tensor squeeze(long dim) => DimsOp(1, dim, 0, "squeeze");
    public Tensor unsqueeze(long dim) => DimsOp(2, dim, 0, "unsqueeze");
    public Tensor flatten(long startDim = 0, long endDim = -1) => DimsOp(3, startDim, endDim, "flatten");
    /// <summary>The slice at `index` along dim, without that dim (a view).</summary>
    public Tensor select(long dim, long index) => DimsOp(4, dim, index, "select");
    /// <summary>Rotates by k·90° in the plane of dims (d0, d1), as torch.rot90.</summary>
    public Tensor rot90(long k = 1, long dim0 = 0, long dim1 = 1)
    {
        long d0 = WrapDim(dim0, "rot90"), d1 = WrapDim(dim1, "rot90");
        return DimsOp(5, k, (d0 << 8) | d1, "rot90");
    }
    public Tensor diagonal(long offset = 0) => DimsOp(6, offset, 0, "diagonal");

    public Tensor narrow(long dim, long start, long length) => Result(Native.mn_narrow(Handle, dim, start, length, out var r), r, "narrow", this);

    /// <summary>Python's a[start:end:step] along dim; null means open.</summary>
    public Tensor slice(long dim, long? start, long? end, long step = 1) =>
        Result(Native.mn_slice(Handle, dim, start.HasValue ? 1 : 0, start ?? 0, end.HasValue ? 1 : 0, end ?? 0, step, out var r), r, "slice", this);

    public Tensor[] split(long splitSize, long dim = 0) => Split(0, [splitSize], dim, "split");
    public Tensor[] split(long[] sizes, long dim = 0) => Split(1, sizes, dim, "split");
    public Tensor[] chunk(long chunks, long dim = 0) => Split(2, [chunks], dim, "chunk");
    public Tensor[] unbind(long dim = 0) => Split(3, [0], dim, "unbind");

    private unsafe Tensor[] Split(int op, long[] sizes, long dim, string name)
    {
        var n = Shape.Length;
        var length = dim >= -n && dim < n ? Shape[dim < 0 ? dim + n : dim] : 0; // a bad dim is libtorch's to report
        var capacity = (int)Math.Max(1, length) + sizes.Length;
        var outs = new IntPtr[capacity];
        int count;
        fixed (long* s = sizes)
        fixed (IntPtr* o = outs)
            Done(Native.mn_split(op, Handle, s, sizes.Length, dim, o, capacity, out count), name, this);
        var result = new Tensor[count];
        for (var i = 0; i < count; i++) result[i] = new Tensor(outs[i]);
        return result;
    }

    public Tensor index_select(long dim, Tensor index) => IndexOp(0, dim, index, null, "index_select");
    public Tensor gather(long dim, Tensor index) => IndexOp(1, dim, index, null, "gather");
    public Tensor scatter(long dim, Tensor index, Tensor src) => IndexOp(2, dim, index, src, "scatter");
    public Tensor scatter_add(long dim, Tensor index, Tensor src) => IndexOp(3, dim, index, src, "scatter_add");
    /// <summary>a[index] along dim with a long (positions) or bool (mask) index tensor.</summary>
    public Tensor index(Tensor index, long dim = 0) => IndexOp(4, dim, index, null, "index");
    public Tensor masked_select(Tensor mask) => IndexOp(5, 0, mask, null, "masked_select");
    public Tensor take_along_dim(Tensor indices, long dim) => IndexOp(6, dim, indices, null, "take_along_dim");

    private Tensor IndexOp(int op, long dim, Tensor index, Tensor? src, string name)
    {
        var r = Result(Native.mn_index_op(op, Handle, dim, index.Handle, src?.Handle ?? IntPtr.Zero, out var h), h, name, this, index);
        GC.KeepAlive(src);
        return r;
    }

    /// <summary>In place: a[index] = value along dim (long or bool index).</summary>
    public Tensor index_put_(Tensor index, Tensor value, long dim = 0)
    {
        Done(Native.mn_index_put_(Handle, dim, index.Handle, value.Handle), "index_put_", this, index);
        GC.KeepAlive(value);
        return this;
    }

    public Tensor masked_fill(Tensor mask, double value) => Result(Native.mn_masked_fill(Handle, mask.Handle, value, 0, out var r), r, "masked_fill", this, mask);
    public Tensor masked_fill_(Tensor mask, double value)
    {
        Done(Native.mn_masked_fill(Handle, mask.Handle, value, 1, out _), "masked_fill_", this, mask);
        return this;
    }

    public Tensor triu(long diagonal = 0) => Result(Native.mn_tri(1, Handle, diagonal, out var r), r, "triu", this);
    public Tensor tril(long diagonal = 0) => Result(Native.mn_tri(0, Handle, diagonal, out var r), r, "tril", this);

    /// <summary>
    /// Python-style indexing: t[0], t[.., 1], t[1..3, ^1], t[TensorIndex.Slice(0, 10, 2)], t[TensorIndex.Ellipsis, 0],
    /// t[TensorIndex.None], t[maskOrIndexTensor], t[rows, cols] (tensor indices are applied together, as PyTorch's
    /// advanced indexing). Integers, slices, None and ... give views. Assigning copies into the indexed view, or
    /// index_put_ for tensor indices (the value is broadcast and converted to this tensor's dtype).
    /// </summary>
    public Tensor this[params TensorIndex[] indices]
    {
        get => TensorIndex.Apply(this, indices);
        set => TensorIndex.Assign(this, indices, value);
    }
}

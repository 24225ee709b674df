using System.Runtime.CompilerServices;

namespace MetaNotebooks.Torch;

/// <summary>
/// An n-dimensional array in libtorch, with autograd. Owns one reference to a native tensor, released by
/// <see cref="Dispose"/>, by the dispose scope it was made in, or (as a backstop) by the finalizer.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private IntPtr handle;
    private long[]? cachedShape;
    private ScalarType? cachedDtype;
    private bool countedUnscoped;   // in NativeMemoryPressure's count of tensors outside every scope

    /// <summary>The dispose scope that will dispose this tensor, or null (the caller disposes it, or the finalizer).</summary>
    internal DisposeScope? OwningScope { get; private set; }

    internal Tensor(IntPtr handle)
    {
        this.handle = handle;
        var scope = DisposeScope.Current;
        if (scope != null) scope.Add(this);
        else LeaveScopes();
        NativeMemoryPressure.OnTensorCreated();
    }

    ~Tensor()
    {
        if (handle == IntPtr.Zero) return;
        Native.mn_free(handle);
        if (countedUnscoped) NativeMemoryPressure.UnscopedRemoved();
    }

    internal IntPtr Handle
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => handle != IntPtr.Zero ? handle : throw new ObjectDisposedException(nameof(Tensor), "This tensor was disposed (explicitly or by its dispose scope); move it out of the scope to keep it.");
    }

    public bool IsDisposed => handle == IntPtr.Zero;

    public void Dispose()
    {
        var h = handle;
        if (h == IntPtr.Zero) return;
        handle = IntPtr.Zero;
        OwningScope = null;
        if (countedUnscoped)
        {
            countedUnscoped = false;
            NativeMemoryPressure.UnscopedRemoved();
        }
        Native.mn_free(h);
        GC.SuppressFinalize(this);
    }

    /// <summary>Keeps this tensor alive past the current dispose scope (it joins the enclosing one).</summary>
    public Tensor MoveToOuterDisposeScope()
    {
        OwningScope?.MoveToOuter(this);
        return this;
    }

    /// <summary>Takes this tensor out of every dispose scope: the caller disposes it.</summary>
    public Tensor DetachFromDisposeScope()
    {
        LeaveScopes();
        return this;
    }

    /// <summary>Called by <see cref="DisposeScope"/> only: the scope now owns this tensor.</summary>
    internal void JoinScope(DisposeScope scope)
    {
        OwningScope = scope;
        if (!countedUnscoped) return;
        countedUnscoped = false;
        NativeMemoryPressure.UnscopedRemoved();
    }

    /// <summary>No scope owns this tensor any more: it counts towards the garbage collections of NativeMemoryPressure.</summary>
    internal void LeaveScopes()
    {
        OwningScope = null;
        if (countedUnscoped || IsDisposed) return;
        countedUnscoped = true;
        NativeMemoryPressure.UnscopedAdded();
    }

    // Every native call goes through these: they raise the error, wrap the result, and keep the operands
    // alive until the call returned (a temporary's finalizer must not free it mid-call).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Tensor Result(IntPtr error, IntPtr result, string op, object? keep1 = null, object? keep2 = null)
    {
        Native.Check(error, op);
        GC.KeepAlive(keep1);
        GC.KeepAlive(keep2);
        return new Tensor(result);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Done(IntPtr error, string op, object? keep1 = null, object? keep2 = null)
    {
        Native.Check(error, op);
        GC.KeepAlive(keep1);
        GC.KeepAlive(keep2);
    }

    // ---- metadata ----

    public long[] shape => (long[])Shape.Clone();

    internal long[] Shape
    {
        get
        {
            if (cachedShape != null) return cachedShape;
            Info(out var dim, out _, out _, out _, out _);
            var s = new long[dim];
            unsafe
            {
                fixed (long* p = s) Done(Native.mn_shape(Handle, p, dim), "shape", this);
            }
            return cachedShape = s;
        }
    }

    public int dim() => Shape.Length;
    public int ndim => Shape.Length;
    public long size(int dim) => Shape[WrapDim(dim, "size")];

    /// <summary>A dim in [−ndim, ndim) as an index in [0, ndim), or libtorch's "Dimension out of range" error.</summary>
    internal int WrapDim(long dim, string op)
    {
        var n = Shape.Length;
        if (n == 0) throw new TorchException(op, $"Dimension specified as {dim} but tensor has no dimensions");
        if (dim < -n || dim >= n) throw new TorchException(op, $"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})");
        return (int)(dim < 0 ? dim + n : dim);
    }
    public long numel()
    {
        long n = 1;
        foreach (var d in Shape) n *= d;
        return n;
    }

    public ScalarType dtype
    {
        get
        {
            if (cachedDtype is { } t) return t;
            Info(out _, out var code, out _, out _, out _);
            return (cachedDtype = (ScalarType)code).Value;
        }
    }

    public Device device
    {
        get
        {
            Info(out _, out _, out var type, out var index, out _);
            return new Device((DeviceType)type, index);
        }
    }

    public bool requires_grad
    {
        get
        {
            Info(out _, out _, out _, out _, out var rg);
            return rg != 0;
        }
        set => Done(Native.mn_set_requires_grad(Handle, value ? 1 : 0), "requires_grad", this);
    }

    /// <summary>Sets requires_grad in place and returns this tensor (PyTorch's requires_grad_()).</summary>
    public Tensor requires_grad_(bool on = true)
    {
        requires_grad = on;
        return this;
    }

    private void Info(out int dim, out int dtypeCode, out int devType, out int devIndex, out int requiresGrad) =>
        Done(Native.mn_info(Handle, out dim, out dtypeCode, out devType, out devIndex, out requiresGrad), "info", this);

    // ---- reading values back ----

    /// <summary>
    /// The single value of a one-element tensor, converted as libtorch converts (a float to an integer truncates
    /// toward zero; int64 values are exact).
    /// </summary>
    public T item<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(double) || typeof(T) == typeof(float))
        {
            Done(Native.mn_item(Handle, out var v), "item", this);
            return typeof(T) == typeof(double) ? (T)(object)v : (T)(object)(float)v;
        }
        var n = numel();
        if (n != 1) throw new TorchException("item", $"a Tensor with {n} elements cannot be converted to Scalar");
        var code = TypeCode<T>();
        T result = default;
        unsafe
        {
            Done(Native.mn_copy_out(Handle, (int)code, &result, code.ElementSize()), "item", this);
        }
        return result;
    }

    /// <summary>All elements in row-major order, converted to T (float, double, Half, long, int, short, byte, sbyte, bool).</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        var code = TypeCode<T>();
        var n = numel();
        var result = new T[n];
        unsafe
        {
            fixed (T* p = result) Done(Native.mn_copy_out(Handle, (int)code, p, n * code.ElementSize()), "ToArray", this);
        }
        return result;
    }

    internal static ScalarType TypeCode<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? ScalarType.Float32 :
        typeof(T) == typeof(double) ? ScalarType.Float64 :
        typeof(T) == typeof(long) ? ScalarType.Int64 :
        typeof(T) == typeof(int) ? ScalarType.Int32 :
        typeof(T) == typeof(short) ? ScalarType.Int16 :
        typeof(T) == typeof(byte) ? ScalarType.Byte :
        typeof(T) == typeof(sbyte) ? ScalarType.Int8 :
        typeof(T) == typeof(bool) ? ScalarType.Bool :
        typeof(T) == typeof(Half) ? ScalarType.Float16 :
        throw new ArgumentException($"No tensor dtype for element type {typeof(T).Name}.");

    public override string ToString() => TensorFormatter.Format(this);
}

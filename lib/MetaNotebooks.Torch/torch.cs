using System.Runtime.InteropServices;

namespace MetaNotebooks.Torch;

/// <summary>The torch namespace: factories, random numbers, joins, threads, devices, grad mode, dispose scopes.</summary>
public static partial class torch
{
    public const ScalarType uint8 = ScalarType.Byte;
    public const ScalarType int8 = ScalarType.Int8;
    public const ScalarType int16 = ScalarType.Int16;
    public const ScalarType int32 = ScalarType.Int32;
    public const ScalarType int64 = ScalarType.Int64;
    public const ScalarType float16 = ScalarType.Float16;
    public const ScalarType float32 = ScalarType.Float32;
    public const ScalarType float64 = ScalarType.Float64;
    public const ScalarType @bool = ScalarType.Bool;

    public static readonly Device CPU = new(DeviceType.CPU);
    public static readonly Device CUDA = new(DeviceType.CUDA);
    public static Device device(string spec) => Device.Parse(spec);

    /// <summary>Default dtype of floating-point factories (float32, as PyTorch).</summary>
    public static ScalarType DefaultDType { get; set; } = ScalarType.Float32;

    /// <summary>The libtorch version the native layer was built against.</summary>
    public static string version
    {
        get
        {
            Native.Check(Native.mn_version(out var v), "version");
            return Marshal.PtrToStringUTF8(v) ?? "";
        }
    }

    public static DisposeScope NewDisposeScope() => new();

    // ---- creation ----

    public static Tensor tensor(float[] data, long[]? shape = null, Device? device = null, bool requires_grad = false) => FromData(data, shape, device, requires_grad);
    public static Tensor tensor(double[] data, long[]? shape = null, Device? device = null, bool requires_grad = false) => FromData(data, shape, device, requires_grad);
    public static Tensor tensor(long[] data, long[]? shape = null, Device? device = null) => FromData(data, shape, device, false);
    public static Tensor tensor(int[] data, long[]? shape = null, Device? device = null) => FromData(data, shape, device, false);
    public static Tensor tensor(byte[] data, long[]? shape = null, Device? device = null) => FromData(data, shape, device, false);
    public static Tensor tensor(bool[] data, long[]? shape = null, Device? device = null) => FromData(data, shape, device, false);
    public static Tensor tensor(float value, Device? device = null, bool requires_grad = false) => FromData(new[] { value }, [], device, requires_grad);
    public static Tensor tensor(double value, Device? device = null, bool requires_grad = false) => FromData(new[] { value }, [], device, requires_grad);
    public static Tensor tensor(float[,] data, Device? device = null, bool requires_grad = false) => FromArray2D(data, device, requires_grad);
    public static Tensor tensor(double[,] data, Device? device = null, bool requires_grad = false) => FromArray2D(data, device, requires_grad);
    public static Tensor tensor(long[,] data, Device? device = null) => FromArray2D(data, device, false);

    private static Tensor FromArray2D<T>(T[,] data, Device? device, bool requires_grad) where T : unmanaged =>
        FromData(data.Length == 0 ? ReadOnlySpan<T>.Empty : MemoryMarshal.CreateReadOnlySpan(ref data[0, 0], data.Length),
                 [data.GetLength(0), data.GetLength(1)], device, requires_grad);

    /// <summary>A tensor of the given shape holding a copy of `data` (row-major).</summary>
    public static unsafe Tensor FromData<T>(ReadOnlySpan<T> data, long[]? shape, Device? device = null, bool requires_grad = false) where T : unmanaged
    {
        shape ??= [data.Length];
        long n = 1;
        foreach (var d in shape) n *= d;
        if (n != data.Length)
            throw new TorchException("tensor", $"shape [{string.Join(", ", shape)}] holds {n} elements but {data.Length} were given");
        var dev = device ?? CPU;
        fixed (T* p = data)
        fixed (long* s = shape)
            return Tensor.Result(Native.mn_from_data(p, s, shape.Length, (int)Tensor.TypeCode<T>(), (int)dev.Type, dev.Index, requires_grad ? 1 : 0, out var r), r, "tensor");
    }

    public static Tensor FromData<T>(T[] data, long[]? shape, Device? device = null, bool requires_grad = false) where T : unmanaged =>
        FromData((ReadOnlySpan<T>)data, shape, device, requires_grad);

    private static unsafe Tensor New(int kind, long[] shape, double value, ScalarType? dtype, Device? device, bool requires_grad, string name)
    {
        var dev = device ?? CPU;
        fixed (long* s = shape)
            return Tensor.Result(Native.mn_new(kind, s, shape.Length, value, (int)(dtype ?? DefaultDType), (int)dev.Type, dev.Index, requires_grad ? 1 : 0, out var r), r, name);
    }

    public static Tensor empty(long[] shape, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) => New(0, shape, 0, dtype, device, requires_grad, "empty");
    public static Tensor zeros(long[] shape, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) => New(1, shape, 0, dtype, device, requires_grad, "zeros");
    public static Tensor ones(long[] shape, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) => New(2, shape, 0, dtype, device, requires_grad, "ones");
    public static Tensor full(long[] shape, double value, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) => New(3, shape, value, dtype, device, requires_grad, "full");
    public static Tensor empty(params long[] shape) => empty(shape, null);
    public static Tensor zeros(params long[] shape) => zeros(shape, null);
    public static Tensor ones(params long[] shape) => ones(shape, null);

    private static Tensor Like(int kind, Tensor src, double value, ScalarType? dtype, bool requires_grad, string name) =>
        Tensor.Result(Native.mn_new_like(kind, src.Handle, value, dtype is null ? -1 : (int)dtype, requires_grad ? 1 : 0, out var r), r, name, src);

    public static Tensor empty_like(Tensor t, ScalarType? dtype = null, bool requires_grad = false) => Like(0, t, 0, dtype, requires_grad, "empty_like");
    public static Tensor zeros_like(Tensor t, ScalarType? dtype = null, bool requires_grad = false) => Like(1, t, 0, dtype, requires_grad, "zeros_like");
    public static Tensor ones_like(Tensor t, ScalarType? dtype = null, bool requires_grad = false) => Like(2, t, 0, dtype, requires_grad, "ones_like");
    public static Tensor full_like(Tensor t, double value, ScalarType? dtype = null, bool requires_grad = false) => Like(3, t, value, dtype, requires_grad, "full_like");
    public static Tensor rand_like(Tensor t, ScalarType? dtype = null) => Like(4, t, 0, dtype, false, "rand_like");
    public static Tensor randn_like(Tensor t, ScalarType? dtype = null) => Like(5, t, 0, dtype, false, "randn_like");

    /// <summary>Values start, start+step, … below end. Integral arguments give int64, as PyTorch.</summary>
    public static Tensor arange(long end) => arange(0, end, 1, ScalarType.Int64);
    public static Tensor arange(long start, long end, long step = 1, ScalarType? dtype = null, Device? device = null) =>
        arange((double)start, end, step, dtype ?? ScalarType.Int64, device);
    public static Tensor arange(double start, double end, double step = 1, ScalarType? dtype = null, Device? device = null)
    {
        var dev = device ?? CPU;
        return Tensor.Result(Native.mn_range(0, start, end, step, (int)(dtype ?? DefaultDType), (int)dev.Type, dev.Index, out var r), r, "arange");
    }

    public static Tensor linspace(double start, double end, long steps, ScalarType? dtype = null, Device? device = null)
    {
        var dev = device ?? CPU;
        return Tensor.Result(Native.mn_range(1, start, end, steps, (int)(dtype ?? DefaultDType), (int)dev.Type, dev.Index, out var r), r, "linspace");
    }

    public static Tensor eye(long n, long? m = null, ScalarType? dtype = null, Device? device = null)
    {
        var dev = device ?? CPU;
        return Tensor.Result(Native.mn_eye(n, m ?? n, (int)(dtype ?? DefaultDType), (int)dev.Type, dev.Index, out var r), r, "eye");
    }

    // ---- random ----

    /// <summary>Seeds libtorch's default generator.</summary>
    public static void manual_seed(long seed) => Native.Check(Native.mn_manual_seed((ulong)seed), "manual_seed");

    private static unsafe Tensor Random(int kind, long[] shape, Generator? g, ScalarType? dtype, Device? device, bool requires_grad, string name)
    {
        var dev = device ?? CPU;
        fixed (long* s = shape)
        {
            var r = Tensor.Result(Native.mn_random(kind, s, shape.Length, g?.Handle ?? IntPtr.Zero, (int)(dtype ?? DefaultDType), (int)dev.Type, dev.Index, requires_grad ? 1 : 0, out var h), h, name);
            GC.KeepAlive(g);
            return r;
        }
    }

    /// <summary>Uniform on [0, 1).</summary>
    public static Tensor rand(long[] shape, Generator? generator = null, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) => Random(0, shape, generator, dtype, device, requires_grad, "rand");
    /// <summary>Standard normal.</summary>
    public static Tensor randn(long[] shape, Generator? generator = null, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) => Random(1, shape, generator, dtype, device, requires_grad, "randn");
    public static Tensor rand(params long[] shape) => rand(shape, null);
    public static Tensor randn(params long[] shape) => randn(shape, null);

    /// <summary>Integers uniform on [low, high).</summary>
    public static unsafe Tensor randint(long low, long high, long[] shape, Generator? generator = null, ScalarType dtype = ScalarType.Int64, Device? device = null)
    {
        var dev = device ?? CPU;
        fixed (long* s = shape)
        {
            var r = Tensor.Result(Native.mn_randint(low, high, s, shape.Length, generator?.Handle ?? IntPtr.Zero, (int)dtype, (int)dev.Type, dev.Index, out var h), h, "randint");
            GC.KeepAlive(generator);
            return r;
        }
    }

    /// <summary>A random permutation of 0 … n−1 (int64).</summary>
    public static Tensor randperm(long n, Generator? generator = null, Device? device = null)
    {
        var dev = device ?? CPU;
        var r = Tensor.Result(Native.mn_randperm(n, generator?.Handle ?? IntPtr.Zero, (int)ScalarType.Int64, (int)dev.Type, dev.Index, out var h), h, "randperm");
        GC.KeepAlive(generator);
        return r;
    }

    public static Tensor multinomial(Tensor probs, long numSamples, bool replacement = false, Generator? generator = null)
    {
        var r = Tensor.Result(Native.mn_multinomial(probs.Handle, numSamples, replacement ? 1 : 0, generator?.Handle ?? IntPtr.Zero, out var h), h, "multinomial", probs);
        GC.KeepAlive(generator);
        return r;
    }

    // ---- joins and functions of several tensors ----

    private static unsafe Tensor Join(int op, IReadOnlyList<Tensor> ts, long dim, string name)
    {
        var hs = new IntPtr[ts.Count];
        for (var i = 0; i < hs.Length; i++) hs[i] = ts[i].Handle;
        fixed (IntPtr* p = hs)
        {
            var r = Tensor.Result(Native.mn_join(op, p, hs.Length, dim, out var h), h, name);
            GC.KeepAlive(ts);
            return r;
        }
    }

    public static Tensor cat(IReadOnlyList<Tensor> tensors, long dim = 0) => Join(0, tensors, dim, "cat");
    public static Tensor stack(IReadOnlyList<Tensor> tensors, long dim = 0) => Join(1, tensors, dim, "stack");

    public static Tensor where(Tensor condition, Tensor x, Tensor y)
    {
        var r = Tensor.Result(Native.mn_where(condition.Handle, x.Handle, y.Handle, out var h), h, "where", condition, x);
        GC.KeepAlive(y);
        return r;
    }

    public static unsafe Tensor einsum(string equation, params Tensor[] operands)
    {
        var hs = operands.Select(o => o.Handle).ToArray();
        fixed (IntPtr* p = hs)
        {
            var r = Tensor.Result(Native.mn_einsum(equation, p, hs.Length, out var h), h, "einsum");
            GC.KeepAlive(operands);
            return r;
        }
    }

    /// <summary>where with a scalar branch (PyTorch's torch.where(cond, x, 0.0)); the scalar takes the tensor's dtype.</summary>
    public static Tensor where(Tensor condition, Tensor x, double y)
    {
        using var t = full([], y, x.dtype, x.device);
        return where(condition, x, t);
    }

    public static Tensor where(Tensor condition, double x, Tensor y)
    {
        using var t = full([], x, y.dtype, y.device);
        return where(condition, t, y);
    }

    public static Tensor matmul(Tensor a, Tensor b) => a.matmul(b);
    public static Tensor mm(Tensor a, Tensor b) => a.mm(b);
    public static Tensor bmm(Tensor a, Tensor b) => a.bmm(b);
    public static Tensor exp(Tensor x) => x.exp();
    public static Tensor log(Tensor x) => x.log();
    public static Tensor sin(Tensor x) => x.sin();
    public static Tensor cos(Tensor x) => x.cos();
    public static Tensor tanh(Tensor x) => x.tanh();
    public static Tensor sigmoid(Tensor x) => x.sigmoid();
    public static Tensor relu(Tensor x) => x.relu();
    public static Tensor abs(Tensor x) => x.abs();
    public static Tensor sqrt(Tensor x) => x.sqrt();
    public static Tensor pow(Tensor x, double exponent) => x.pow(exponent);
    public static Tensor clamp(Tensor x, double? min = null, double? max = null) => x.clamp(min, max);
    public static Tensor maximum(Tensor a, Tensor b) => a.maximum(b);
    public static Tensor minimum(Tensor a, Tensor b) => a.minimum(b);
    public static Tensor sum(Tensor x) => x.sum();
    public static Tensor mean(Tensor x) => x.mean();
    public static Tensor argmax(Tensor x, long dim, bool keepdim = false) => x.argmax(dim, keepdim);
    public static Tensor flatten(Tensor x, long startDim = 0, long endDim = -1) => x.flatten(startDim, endDim);
    public static Tensor rot90(Tensor x, long k = 1, long dim0 = 0, long dim1 = 1) => x.rot90(k, dim0, dim1);
    public static bool allclose(Tensor a, Tensor b, double rtol = 1e-5, double atol = 1e-8) => a.allclose(b, rtol, atol);
    // More of PyTorch's torch.* functions, as in Python (each is the Tensor method of the same name).
    public static Tensor neg(Tensor x) => x.neg();
    public static Tensor sign(Tensor x) => x.sign();
    public static Tensor floor(Tensor x) => x.floor();
    public static Tensor ceil(Tensor x) => x.ceil();
    public static Tensor round(Tensor x) => x.round();
    public static Tensor square(Tensor x) => x.square();
    public static Tensor rsqrt(Tensor x) => x.rsqrt();
    public static Tensor log1p(Tensor x) => x.log1p();
    public static Tensor expm1(Tensor x) => x.expm1();
    public static Tensor erf(Tensor x) => x.erf();
    public static Tensor erfinv(Tensor x) => x.erfinv();
    public static Tensor pow(Tensor x, Tensor exponent) => x.pow(exponent);
    public static Tensor atan2(Tensor a, Tensor b) => a.atan2(b);
    public static Tensor softmax(Tensor x, long dim) => x.softmax(dim);
    public static Tensor log_softmax(Tensor x, long dim) => x.log_softmax(dim);
    public static Tensor sum(Tensor x, long dim, bool keepdim = false) => x.sum(dim, keepdim);
    public static Tensor mean(Tensor x, long dim, bool keepdim = false) => x.mean(dim, keepdim);
    public static Tensor std(Tensor x, long dim, bool unbiased = true, bool keepdim = false) => x.std(dim, unbiased, keepdim);
    public static Tensor var(Tensor x, long dim, bool unbiased = true, bool keepdim = false) => x.var(dim, unbiased, keepdim);
    public static Tensor logsumexp(Tensor x, long dim, bool keepdim = false) => x.logsumexp(dim, keepdim);
    public static Tensor amax(Tensor x, long dim, bool keepdim = false) => x.amax(dim, keepdim);
    public static Tensor amin(Tensor x, long dim, bool keepdim = false) => x.amin(dim, keepdim);
    public static Tensor norm(Tensor x, double p = 2) => x.norm(p);
    public static Tensor max(Tensor x) => x.max();
    public static Tensor min(Tensor x) => x.min();
    public static (Tensor values, Tensor indexes) max(Tensor x, long dim, bool keepdim = false) => x.max(dim, keepdim);
    public static (Tensor values, Tensor indexes) min(Tensor x, long dim, bool keepdim = false) => x.min(dim, keepdim);
    public static Tensor argmin(Tensor x, long dim, bool keepdim = false) => x.argmin(dim, keepdim);
    public static Tensor cumsum(Tensor x, long dim) => x.cumsum(dim);
    public static Tensor dot(Tensor a, Tensor b) => a.dot(b);
    public static Tensor outer(Tensor a, Tensor b) => a.outer(b);
    public static Tensor reshape(Tensor x, params long[] shape) => x.reshape(shape);
    public static Tensor permute(Tensor x, params long[] dims) => x.permute(dims);
    public static Tensor transpose(Tensor x, long dim0, long dim1) => x.transpose(dim0, dim1);
    public static Tensor t(Tensor x) => x.t();
    public static Tensor squeeze(Tensor x, long dim) => x.squeeze(dim);
    public static Tensor unsqueeze(Tensor x, long dim) => x.unsqueeze(dim);
    public static Tensor narrow(Tensor x, long dim, long start, long length) => x.narrow(dim, start, length);
    public static Tensor[] split(Tensor x, long splitSize, long dim = 0) => x.split(splitSize, dim);
    public static Tensor[] chunk(Tensor x, long chunks, long dim = 0) => x.chunk(chunks, dim);
    public static Tensor[] unbind(Tensor x, long dim = 0) => x.unbind(dim);
    public static Tensor index_select(Tensor x, long dim, Tensor index) => x.index_select(dim, index);
    public static Tensor gather(Tensor x, long dim, Tensor index) => x.gather(dim, index);
    public static Tensor scatter(Tensor x, long dim, Tensor index, Tensor src) => x.scatter(dim, index, src);
    public static Tensor masked_fill(Tensor x, Tensor mask, double value) => x.masked_fill(mask, value);
    public static Tensor flip(Tensor x, params long[] dims) => x.flip(dims);
    public static Tensor clone(Tensor x) => x.clone();
    public static bool equal(Tensor a, Tensor b) => a.equal(b);

    // ---- threads and grad mode ----

    public static void set_num_threads(int n)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "set_num_threads needs at least 1 thread.");
        Native.Check(Native.mn_set_num_threads(n), "set_num_threads");
    }

    public static int get_num_threads() => Native.mn_get_num_threads();

    // ---- memory ----

    /// <summary>Whether <see cref="set_keep_freed_memory"/>(true) is in effect in this process.</summary>
    public static bool keeps_freed_memory => keepsFreedMemory;
    private static bool keepsFreedMemory;

    /// <summary>
    /// The glibc malloc settings <see cref="set_keep_freed_memory"/> uses, as GLIBC_TUNABLES for a child process (e.g.
    /// a PyTorch peer of `mn bench`, so that both sides allocate alike).
    /// </summary>
    public const string KeepFreedMemoryTunables = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647";

    /// <summary>
    /// Whether glibc's malloc, which libtorch's CPU allocator calls, keeps freed memory for reuse (true) or, as by
    /// default, serves blocks above 32 MB with fresh mmaps and returns freed memory to the kernel. libtorch has no
    /// caching allocator on the CPU: an autograd graph over large tensors (MetaNet's coordinate-wise generators keep
    /// [148,032 × 80] LSTM gates per step) then page-faults every page of every large buffer again in every
    /// iteration, which cost ~40% of a MetaNet episode's CPU time (`mn bench metanet.episode`). Keeping freed memory
    /// makes the process hold on to its peak allocation. Process-wide; `mn` turns it on at start. Does nothing
    /// outside glibc (returns false there).
    /// </summary>
    public static bool set_keep_freed_memory(bool keep)
    {
        if (!OperatingSystem.IsLinux()) return false;
        const int TrimThreshold = -1, MmapMax = -4;   // M_TRIM_THRESHOLD, M_MMAP_MAX (malloc.h)
        try
        {
            var done = Libc.mallopt(MmapMax, keep ? 0 : 65536) == 1 & Libc.mallopt(TrimThreshold, keep ? int.MaxValue : 128 * 1024) == 1;
            keepsFreedMemory = done && keep;
            return done;
        }
        catch (EntryPointNotFoundException)
        {
            return false;   // not glibc (e.g. musl)
        }
    }

    public static bool is_grad_enabled() => Native.mn_grad_enabled() != 0;

    /// <summary>using (torch.no_grad()) { … }: operations inside record no graph.</summary>
    public static IDisposable no_grad() => new GradMode(false);
    public static IDisposable enable_grad() => new GradMode(true);

    private sealed class GradMode : IDisposable
    {
        private readonly int previous;
        private bool restored;

        public GradMode(bool enabled)
        {
            previous = Native.mn_grad_enabled();
            Native.mn_set_grad_enabled(enabled ? 1 : 0);
        }

        public void Dispose()
        {
            if (restored) return;
            restored = true;
            Native.mn_set_grad_enabled(previous);
        }
    }

    public static class cuda
    {
        /// <summary>True when the libtorch found at build time has CUDA and a GPU is present.</summary>
        public static bool is_available() => Native.mn_cuda_is_available() != 0;
        public static int device_count() => Native.mn_cuda_device_count();
    }
}

internal static partial class Libc
{
    [LibraryImport("libc")] internal static partial int mallopt(int param, int value);
}

using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MetaNotebooks.Torch;

/// <summary>The C ABI of native/ (libmn_torch.so). Every function returning IntPtr returns an error message or 0.</summary>
internal static unsafe partial class Native
{
    private const string Lib = "mn_torch";

    /// <summary>Finds libmn_torch.so beside this assembly, so `#r "MetaNotebooks.Torch.dll"` needs no LD_LIBRARY_PATH.</summary>
#pragma warning disable CA2255 // a library's module initializer is the point: the resolver must precede any P/Invoke
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void RegisterResolver() =>
        NativeLibrary.SetDllImportResolver(typeof(Native).Assembly, Resolve);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Lib) return IntPtr.Zero;
        var dir = Path.GetDirectoryName(assembly.Location);
        var candidates = new List<string>();
        if (!string.IsNullOrEmpty(dir)) candidates.Add(Path.Combine(dir, "libmn_torch.so"));
        candidates.Add(Path.Combine(AppContext.BaseDirectory, "libmn_torch.so"));
        var errors = new List<string>();
        foreach (var file in candidates.Distinct())
        {
            if (!File.Exists(file)) { errors.Add($"{file}: not found"); continue; }
            try { return NativeLibrary.Load(file); }
            catch (DllNotFoundException e) { errors.Add($"{file}: {e.Message}"); }
        }
        throw new DllNotFoundException(
            "MetaNotebooks.Torch could not load its native layer libmn_torch.so (" + string.Join("; ", errors) +
            "). Build it with `./mn build` (needs libtorch-dev and cmake: `./mn setup` installs them).");
    }

    /// <summary>Raises a TorchException for a non-zero error pointer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Check(IntPtr error, string op)
    {
        if (error != IntPtr.Zero) Throw(error, op);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Throw(IntPtr error, string op) =>
        throw new TorchException(op, Marshal.PtrToStringUTF8(error) ?? "unknown error");

    // core.cpp
    [LibraryImport(Lib)] internal static partial void mn_free(IntPtr h);
    [LibraryImport(Lib)] internal static partial IntPtr mn_version(out IntPtr version);
    [LibraryImport(Lib)] internal static partial IntPtr mn_info(IntPtr h, out int dim, out int dtype, out int devType, out int devIndex, out int requiresGrad);
    [LibraryImport(Lib)] internal static partial IntPtr mn_shape(IntPtr h, long* shape, int capacity);
    [LibraryImport(Lib)] internal static partial IntPtr mn_numel(IntPtr h, out long n);
    [LibraryImport(Lib)] internal static partial IntPtr mn_copy_out(IntPtr h, int dtype, void* dst, long nbytes);
    [LibraryImport(Lib)] internal static partial IntPtr mn_item(IntPtr h, out double value);
    [LibraryImport(Lib)] internal static partial IntPtr mn_from_data(void* data, long* shape, int ndim, int dtype, int devType, int devIndex, int requiresGrad, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_set_num_threads(int n);
    [LibraryImport(Lib)] internal static partial int mn_get_num_threads();
    [LibraryImport(Lib)] internal static partial int mn_cuda_device_count();
    [LibraryImport(Lib)] internal static partial int mn_cuda_is_available();

    // distributed.cpp
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial IntPtr mn_pg_new(string host, int port, int rank, int worldSize, long timeoutMs, string prefix, out IntPtr group);
    [LibraryImport(Lib)] internal static partial IntPtr mn_pg_store_port(IntPtr group, out int port);
    [LibraryImport(Lib)] internal static partial void mn_pg_free(IntPtr group);
    [LibraryImport(Lib)] internal static partial IntPtr mn_pg_all_reduce(IntPtr group, IntPtr t, int op);
    [LibraryImport(Lib)] internal static partial IntPtr mn_pg_broadcast(IntPtr group, IntPtr t, int root);
    [LibraryImport(Lib)] internal static partial IntPtr mn_pg_all_gather(IntPtr group, IntPtr t, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_pg_barrier(IntPtr group);

    // memory.cpp
    [LibraryImport(Lib)] internal static partial long* mn_cpu_allocated_bytes();

    // creation.cpp
    [LibraryImport(Lib)] internal static partial IntPtr mn_new(int kind, long* shape, int ndim, double value, int dtype, int devType, int devIndex, int requiresGrad, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_new_like(int kind, IntPtr src, double value, int dtype, int requiresGrad, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_range(int kind, double start, double end, double step, int dtype, int devType, int devIndex, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_eye(long n, long m, int dtype, int devType, int devIndex, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_random(int kind, long* shape, int ndim, IntPtr gen, int dtype, int devType, int devIndex, int requiresGrad, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_randint(long low, long high, long* shape, int ndim, IntPtr gen, int dtype, int devType, int devIndex, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_randperm(long n, IntPtr gen, int dtype, int devType, int devIndex, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_random_(int kind, IntPtr t, double a, double b, IntPtr gen);
    [LibraryImport(Lib)] internal static partial IntPtr mn_multinomial(IntPtr probs, long n, int replacement, IntPtr gen, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_manual_seed(ulong seed);
    [LibraryImport(Lib)] internal static partial IntPtr mn_generator_new(ulong seed, out IntPtr gen);
    [LibraryImport(Lib)] internal static partial void mn_generator_free(IntPtr gen);
    [LibraryImport(Lib)] internal static partial IntPtr mn_generator_seed(IntPtr gen, ulong seed);

    // math.cpp
    [LibraryImport(Lib)] internal static partial IntPtr mn_unary(int op, IntPtr a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_binary(int op, IntPtr a, IntPtr b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_binary_scalar(int op, IntPtr a, double s, long si, int isInteger, int reverse, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_inplace(int op, IntPtr a, IntPtr b, double alpha);
    [LibraryImport(Lib)] internal static partial IntPtr mn_inplace_scalar(int op, IntPtr a, double s);
    [LibraryImport(Lib)] internal static partial IntPtr mn_addc_(int op, IntPtr a, IntPtr t1, IntPtr t2, double value);
    [LibraryImport(Lib)] internal static partial IntPtr mn_clamp(IntPtr a, int hasMin, double min, int hasMax, double max, int inplace, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_where(IntPtr cond, IntPtr a, IntPtr b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_reduce(int op, IntPtr a, long* dims, int ndims, int keepdim, double arg, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_reduce_index(int op, IntPtr a, int hasDim, long dim, int keepdim, out IntPtr values, out IntPtr indices);
    [LibraryImport(Lib)] internal static partial IntPtr mn_max_all(int op, IntPtr a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_topk(IntPtr a, long k, long dim, int largest, int sorted, out IntPtr values, out IntPtr indices);
    [LibraryImport(Lib)] internal static partial IntPtr mn_sort(IntPtr a, long dim, int descending, out IntPtr values, out IntPtr indices);
    [LibraryImport(Lib)] internal static partial IntPtr mn_cumsum(IntPtr a, long dim, out IntPtr result);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial IntPtr mn_einsum(string equation, IntPtr* operands, int n, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_allclose(IntPtr a, IntPtr b, double rtol, double atol, out int result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_equal(IntPtr a, IntPtr b, out int result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_to(IntPtr a, int dtype, int devType, int devIndex, int copy, out IntPtr result);

    // shape.cpp
    [LibraryImport(Lib)] internal static partial IntPtr mn_shape_op(int op, IntPtr a, long* v, int n, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_dims_op(int op, IntPtr a, long d0, long d1, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_slice(IntPtr a, long dim, int hasStart, long start, int hasEnd, long end, long step, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_narrow(IntPtr a, long dim, long start, long length, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_join(int op, IntPtr* ts, int n, long dim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_split(int op, IntPtr a, long* sizes, int nsizes, long dim, IntPtr* outs, int capacity, out int count);
    [LibraryImport(Lib)] internal static partial IntPtr mn_index_op(int op, IntPtr a, long dim, IntPtr index, IntPtr src, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_index_put_(IntPtr a, long dim, IntPtr index, IntPtr value);
    [LibraryImport(Lib)] internal static partial IntPtr mn_index(IntPtr a, IntPtr* indices, int n, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_index_put(IntPtr a, IntPtr* indices, int n, IntPtr value, int accumulate);
    [LibraryImport(Lib)] internal static partial IntPtr mn_masked_fill(IntPtr a, IntPtr mask, double value, int inplace, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_tri(int upper, IntPtr a, long diagonal, out IntPtr result);

    // autograd.cpp
    [LibraryImport(Lib)] internal static partial IntPtr mn_set_requires_grad(IntPtr a, int on);
    [LibraryImport(Lib)] internal static partial IntPtr mn_grad(IntPtr a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_set_grad(IntPtr a, IntPtr grad);
    [LibraryImport(Lib)] internal static partial IntPtr mn_retain_grad(IntPtr a);
    [LibraryImport(Lib)] internal static partial IntPtr mn_autograd_info(IntPtr a, out int isLeaf, out IntPtr gradFn);
    [LibraryImport(Lib)] internal static partial IntPtr mn_backward(IntPtr a, IntPtr gradient, int retainGraph, int createGraph);
    [LibraryImport(Lib)] internal static partial IntPtr mn_autograd_grad(IntPtr* outputs, int nout, IntPtr* inputs, int nin, IntPtr* gradOutputs, int retainGraph, int createGraph, int allowUnused, IntPtr* results);
    [LibraryImport(Lib)] internal static partial int mn_grad_enabled();
    [LibraryImport(Lib)] internal static partial void mn_set_grad_enabled(int on);

    // nn.cpp
    [LibraryImport(Lib)] internal static partial IntPtr mn_linear(IntPtr x, IntPtr w, IntPtr b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_conv2d(IntPtr x, IntPtr w, IntPtr b, long* p, long groups, int transposed, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_pool2d(int op, IntPtr x, long* p, int ceilMode, int countIncludePad, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_adaptive_avg_pool2d(IntPtr x, long h, long w, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_batch_norm(IntPtr x, IntPtr runningMean, IntPtr runningVar, IntPtr weight, IntPtr bias, int training, double momentum, double eps, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_layer_norm(IntPtr x, long* shape, int n, IntPtr weight, IntPtr bias, double eps, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_dropout(IntPtr x, double p, int training, IntPtr gen, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_activation(int op, IntPtr x, double a, double b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_loss(int op, IntPtr input, IntPtr target, IntPtr weight, IntPtr extra, int reduction, long ignoreIndex, double arg, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_distance(int op, IntPtr x1, IntPtr x2, double a, double b, long i, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_one_hot(IntPtr x, long numClasses, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_interpolate(IntPtr x, int mode, long h, long w, double sh, double sw, int alignCorners, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_pad(IntPtr x, long* pads, int n, int mode, double value, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_affine_grid(IntPtr theta, long* size, int n, int alignCorners, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_grid_sample(IntPtr x, IntPtr grid, int mode, int padding, int alignCorners, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_rnn_cell(int op, IntPtr x, IntPtr h, IntPtr c, IntPtr wIh, IntPtr wHh, IntPtr bIh, IntPtr bHh, out IntPtr hOut, out IntPtr cOut);
}

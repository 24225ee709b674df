using System.Runtime.InteropServices;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Cli.Bench.Benchmarks;

// Where the per-call time of overhead.add and overhead.mlp goes (no peer: these split our own cost).
//   binding.pinvoke        one managed→native transition to a trivial export (torch.is_grad_enabled)
//   binding.add-raw-abi    mn_binary(add) + mn_free through raw function pointers: libtorch's at::add with its
//                          dispatcher and autograd key, plus the C ABI (new/delete of the handle, try/catch)
//   binding.add-dispose    the C# API without a dispose scope: (a + b).Dispose()
//   overhead.add           the C# API with a dispose scope per call
// So: C# wrapper = add-dispose − add-raw-abi; dispose scope = overhead.add − add-dispose;
// libtorch + C ABI = add-raw-abi − pinvoke. Likewise binding.mlp-raw-abi against overhead.mlp.

/// <summary>The raw C ABI of libmn_torch.so through function pointers (no Tensor objects, no scopes, no op names).</summary>
internal static unsafe class RawAbi
{
    private static readonly IntPtr Lib = Load();

    public static readonly delegate* unmanaged<int, long*, int, double, int, int, int, int, IntPtr*, IntPtr> New = (delegate* unmanaged<int, long*, int, double, int, int, int, int, IntPtr*, IntPtr>)Export("mn_new");
    public static readonly delegate* unmanaged<int, long*, int, IntPtr, int, int, int, int, IntPtr*, IntPtr> Random = (delegate* unmanaged<int, long*, int, IntPtr, int, int, int, int, IntPtr*, IntPtr>)Export("mn_random");
    public static readonly delegate* unmanaged<int, IntPtr, IntPtr, IntPtr*, IntPtr> Binary = (delegate* unmanaged<int, IntPtr, IntPtr, IntPtr*, IntPtr>)Export("mn_binary");
    public static readonly delegate* unmanaged<int, IntPtr, IntPtr*, IntPtr> Unary = (delegate* unmanaged<int, IntPtr, IntPtr*, IntPtr>)Export("mn_unary");
    public static readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr*, IntPtr> Linear = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr*, IntPtr>)Export("mn_linear");
    public static readonly delegate* unmanaged<int, IntPtr, IntPtr, IntPtr, IntPtr, int, long, double, IntPtr*, IntPtr> Loss = (delegate* unmanaged<int, IntPtr, IntPtr, IntPtr, IntPtr, int, long, double, IntPtr*, IntPtr>)Export("mn_loss");
    public static readonly delegate* unmanaged<IntPtr*, int, IntPtr*, int, IntPtr*, int, int, int, IntPtr*, IntPtr> AutogradGrad = (delegate* unmanaged<IntPtr*, int, IntPtr*, int, IntPtr*, int, int, int, IntPtr*, IntPtr>)Export("mn_autograd_grad");
    public static readonly delegate* unmanaged<IntPtr, void> Free = (delegate* unmanaged<IntPtr, void>)Export("mn_free");

    // Codes of the C ABI (native/src): dtype float32 = 6; unary relu = 7; binary add = 0; loss mse = 2, reduction mean = 1.
    public const int Float32 = 6, OpRelu = 7, OpAdd = 0, LossMse = 2, ReductionMean = 1;

    private static IntPtr Load()
    {
        _ = torch.is_grad_enabled(); // makes the binding load its library first (its resolver knows where it is)
        var file = Path.Combine(Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? AppContext.BaseDirectory, "libmn_torch.so");
        return NativeLibrary.TryLoad(file, out var h) ? h : throw new BenchmarkSkippedException($"cannot load {file}");
    }

    private static IntPtr Export(string name) =>
        NativeLibrary.TryGetExport(Lib, name, out var p) ? p : throw new BenchmarkSkippedException($"libmn_torch.so has no export {name} (the C ABI changed)");

    public static void Check(IntPtr error, string op)
    {
        if (error != IntPtr.Zero) throw new InvalidOperationException($"{op}: {Marshal.PtrToStringUTF8(error)}");
    }

    public static IntPtr Make(int kind, long[] shape, bool requiresGrad, bool random = false)
    {
        IntPtr h;
        fixed (long* s = shape)
            Check(random ? Random(1, s, shape.Length, IntPtr.Zero, Float32, 0, -1, requiresGrad ? 1 : 0, &h)
                         : New(kind, s, shape.Length, 0, Float32, 0, -1, requiresGrad ? 1 : 0, &h), "create");
        return h;
    }
}

/// <summary>The cost of one P/Invoke to a trivial export: the floor under every call of the binding.</summary>
public sealed class PInvokeBenchmark : IBenchmark
{
    public string Name => "binding.pinvoke";
    public string Measures => "one P/Invoke of a trivial export (torch.is_grad_enabled → mn_grad_enabled)";

    public Measurement RunOurs(BenchSettings s) => Harness.Run(() => torch.is_grad_enabled(), Harness.Micro(s));

    public PeerCommand? Peer(BenchSettings s) => null;
}

/// <summary>a + b through the raw C ABI: libtorch's own cost for the op plus the handle's new/delete.</summary>
public sealed unsafe class AddRawAbiBenchmark : IBenchmark
{
    public string Name => "binding.add-raw-abi";
    public string Measures => "a + b on 1-element tensors via raw function pointers to mn_binary + mn_free (no C# Tensor, no scope)";

    public Measurement RunOurs(BenchSettings s)
    {
        var a = RawAbi.Make(2, [1], false);
        var b = RawAbi.Make(2, [1], false);
        try
        {
            return Harness.Run(() =>
            {
                IntPtr r;
                RawAbi.Check(RawAbi.Binary(RawAbi.OpAdd, a, b, &r), "add");
                RawAbi.Free(r);
            }, Harness.Micro(s));
        }
        finally
        {
            RawAbi.Free(a);
            RawAbi.Free(b);
        }
    }

    public PeerCommand? Peer(BenchSettings s) => null;
}

/// <summary>a + b with the C# API, disposed explicitly (no dispose scope).</summary>
public sealed class AddDisposeBenchmark : IBenchmark
{
    public string Name => "binding.add-dispose";
    public string Measures => "(a + b).Dispose() on 1-element tensors: the C# API without a dispose scope";

    public Measurement RunOurs(BenchSettings s)
    {
        using var a = ones(1);
        using var b = ones(1);
        return Harness.Run(() => (a + b).Dispose(), Harness.Micro(s));
    }

    public PeerCommand? Peer(BenchSettings s) => null;
}

/// <summary>overhead.mlp through the raw C ABI: what the MLP costs without the C# layer.</summary>
public sealed unsafe class MlpRawAbiBenchmark : IBenchmark
{
    public string Name => "binding.mlp-raw-abi";
    public string Measures => "overhead.mlp via raw function pointers (mn_linear, mn_unary relu, mn_loss, mn_autograd_grad, mn_free)";

    public Measurement RunOurs(BenchSettings s)
    {
        IntPtr[] p =
        [
            RawAbi.Make(0, [40, 1], true, random: true), RawAbi.Make(1, [40], true),
            RawAbi.Make(0, [40, 40], true, random: true), RawAbi.Make(1, [40], true),
            RawAbi.Make(0, [1, 40], true, random: true), RawAbi.Make(1, [1], true),
        ];
        var x = RawAbi.Make(0, [10, 1], false, random: true);
        var y = RawAbi.Make(0, [10, 1], false, random: true);
        var grads = new IntPtr[6];
        try
        {
            return Harness.Run(() =>
            {
                IntPtr l1, r1, l2, r2, o, loss;
                RawAbi.Check(RawAbi.Linear(x, p[0], p[1], &l1), "linear");
                RawAbi.Check(RawAbi.Unary(RawAbi.OpRelu, l1, &r1), "relu");
                RawAbi.Check(RawAbi.Linear(r1, p[2], p[3], &l2), "linear");
                RawAbi.Check(RawAbi.Unary(RawAbi.OpRelu, l2, &r2), "relu");
                RawAbi.Check(RawAbi.Linear(r2, p[4], p[5], &o), "linear");
                RawAbi.Check(RawAbi.Loss(RawAbi.LossMse, o, y, IntPtr.Zero, IntPtr.Zero, RawAbi.ReductionMean, 0, 0, &loss), "mse_loss");
                fixed (IntPtr* ins = p)
                fixed (IntPtr* outs = grads)
                    RawAbi.Check(RawAbi.AutogradGrad(&loss, 1, ins, 6, null, -1, 0, 0, outs), "autograd.grad");
                RawAbi.Free(l1); RawAbi.Free(r1); RawAbi.Free(l2); RawAbi.Free(r2); RawAbi.Free(o); RawAbi.Free(loss);
                foreach (var g in grads) RawAbi.Free(g);
            }, Harness.Micro(s));
        }
        finally
        {
            foreach (var h in p) RawAbi.Free(h);
            RawAbi.Free(x);
            RawAbi.Free(y);
        }
    }

    public PeerCommand? Peer(BenchSettings s) => null;
}

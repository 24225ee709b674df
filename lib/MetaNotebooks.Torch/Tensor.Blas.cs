namespace MetaNotebooks.Torch;

// Fused multiply-adds (native/src/blas.cpp): fewer autograd nodes on hot paths such as MAML's inner loop.
public sealed partial class Tensor
{
    private Tensor Fused(int op, Tensor b, Tensor? c, double beta, double alpha, string name)
    {
        var r = Result(Native.mn_fused(op, Handle, b.Handle, c?.Handle ?? IntPtr.Zero, beta, alpha, out var h), h, name, this, b);
        GC.KeepAlive(c);
        return r;
    }

    /// <summary>this + alpha · other, one operation (PyTorch's add(other, alpha=…)).</summary>
    public Tensor add(Tensor other, double alpha) => Fused(0, other, null, 1, alpha, "add");
    /// <summary>beta · this + alpha · (batch1 @ batch2), batched [B, n, m] (torch.baddbmm).</summary>
    public Tensor baddbmm(Tensor batch1, Tensor batch2, double beta = 1, double alpha = 1) => Fused(1, batch1, batch2, beta, alpha, "baddbmm");
    /// <summary>beta · this + alpha · (mat1 @ mat2) (torch.addmm).</summary>
    public Tensor addmm(Tensor mat1, Tensor mat2, double beta = 1, double alpha = 1) => Fused(2, mat1, mat2, beta, alpha, "addmm");
    /// <summary>this + value · t1 · t2 (torch.addcmul).</summary>
    public Tensor addcmul(Tensor t1, Tensor t2, double value = 1) => Fused(3, t1, t2, 1, value, "addcmul");
    /// <summary>this + weight · (end − this) (torch.lerp).</summary>
    public Tensor lerp(Tensor end, double weight) => Fused(4, end, null, 1, weight, "lerp");
}

public static partial class torch
{
    public static Tensor add(Tensor input, Tensor other, double alpha = 1) => input.add(other, alpha);
    public static Tensor baddbmm(Tensor input, Tensor batch1, Tensor batch2, double beta = 1, double alpha = 1) => input.baddbmm(batch1, batch2, beta, alpha);
    public static Tensor addmm(Tensor input, Tensor mat1, Tensor mat2, double beta = 1, double alpha = 1) => input.addmm(mat1, mat2, beta, alpha);
}

namespace MetaNotebooks.Torch;

// In-place operations (what optimisers and initialisers use) and autograd on a tensor.
public sealed partial class Tensor
{
    private Tensor InPlace(int op, Tensor other, double alpha, string name)
    {
        Done(Native.mn_inplace(op, Handle, other.Handle, alpha), name, this, other);
        return this;
    }

    private Tensor InPlace(int op, double s, string name)
    {
        Done(Native.mn_inplace_scalar(op, Handle, s), name, this);
        return this;
    }

    public Tensor add_(Tensor other, double alpha = 1) => InPlace(0, other, alpha, "add_");
    public Tensor sub_(Tensor other, double alpha = 1) => InPlace(1, other, alpha, "sub_");
    public Tensor mul_(Tensor other) => InPlace(2, other, 1, "mul_");
    public Tensor div_(Tensor other) => InPlace(3, other, 1, "div_");
    public Tensor copy_(Tensor src) => InPlace(4, src, 1, "copy_");
    public Tensor add_(double s) => InPlace(0, s, "add_");
    public Tensor sub_(double s) => InPlace(1, s, "sub_");
    public Tensor mul_(double s) => InPlace(2, s, "mul_");
    public Tensor div_(double s) => InPlace(3, s, "div_");
    public Tensor fill_(double value) => InPlace(4, value, "fill_");
    public Tensor zero_() => InPlace(5, 0, "zero_");
    public Tensor pow_(double exponent) => InPlace(6, exponent, "pow_");
    public Tensor relu_() => InPlace(9, 0, "relu_");
    public Tensor sqrt_() => InPlace(10, 0, "sqrt_");
    public Tensor neg_() => InPlace(11, 0, "neg_");
    public Tensor exp_() => InPlace(12, 0, "exp_");
    public Tensor erfinv_() => InPlace(13, 0, "erfinv_");

    public Tensor clamp_(double? min = null, double? max = null)
    {
        Done(Native.mn_clamp(Handle, min.HasValue ? 1 : 0, min ?? 0, max.HasValue ? 1 : 0, max ?? 0, 1, out _), "clamp_", this);
        return this;
    }

    /// <summary>this += value · t1 · t2</summary>
    public Tensor addcmul_(Tensor t1, Tensor t2, double value = 1)
    {
        Done(Native.mn_addc_(0, Handle, t1.Handle, t2.Handle, value), "addcmul_", this, t1);
        GC.KeepAlive(t2);
        return this;
    }

    /// <summary>this += value · t1 / t2</summary>
    public Tensor addcdiv_(Tensor t1, Tensor t2, double value = 1)
    {
        Done(Native.mn_addc_(1, Handle, t1.Handle, t2.Handle, value), "addcdiv_", this, t1);
        GC.KeepAlive(t2);
        return this;
    }

    public Tensor normal_(double mean = 0, double std = 1, Generator? generator = null) => Random(0, mean, std, generator, "normal_");
    public Tensor uniform_(double from = 0, double to = 1, Generator? generator = null) => Random(1, from, to, generator, "uniform_");
    public Tensor bernoulli_(double p = 0.5, Generator? generator = null) => Random(2, p, 0, generator, "bernoulli_");

    private Tensor Random(int kind, double a, double b, Generator? g, string name)
    {
        Done(Native.mn_random_(kind, Handle, a, b, g?.Handle ?? IntPtr.Zero), name, this, g);
        return this;
    }

    // ---- autograd ----

    /// <summary>The gradient accumulated by backward(); null when none. Setting null clears it.</summary>
    public Tensor? grad
    {
        get
        {
            Done(Native.mn_grad(Handle, out var g), "grad", this);
            return g == IntPtr.Zero ? null : new Tensor(g);
        }
        set => Done(Native.mn_set_grad(Handle, value?.Handle ?? IntPtr.Zero), "grad", this, value);
    }

    /// <summary>Keeps .grad for a non-leaf tensor.</summary>
    public Tensor retain_grad()
    {
        Done(Native.mn_retain_grad(Handle), "retain_grad", this);
        return this;
    }

    public bool is_leaf
    {
        get
        {
            Done(Native.mn_autograd_info(Handle, out var leaf, out _), "is_leaf", this);
            return leaf != 0;
        }
    }

    /// <summary>Name of the autograd node that made this tensor (e.g. "AddBackward0"), or null.</summary>
    public string? grad_fn
    {
        get
        {
            Done(Native.mn_autograd_info(Handle, out _, out var name), "grad_fn", this);
            var s = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(name);
            return string.IsNullOrEmpty(s) ? null : s;
        }
    }

    /// <summary>Accumulates d(this)/d(leaf) into every leaf's .grad. A non-scalar needs `gradient`.</summary>
    public void backward(Tensor? gradient = null, bool? retainGraph = null, bool createGraph = false)
    {
        Done(Native.mn_backward(Handle, gradient?.Handle ?? IntPtr.Zero, retainGraph is null ? -1 : retainGraph.Value ? 1 : 0, createGraph ? 1 : 0),
            "backward", this, gradient);
    }

    internal Tensor Alias() => view(Shape);
}

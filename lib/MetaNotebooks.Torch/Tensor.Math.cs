namespace MetaNotebooks.Torch;

// Element-wise math, comparisons, reductions and linear algebra (op codes: native/src/math.cpp).
public sealed partial class Tensor
{
    internal enum Unary
    {
        Neg, Exp, Log, Sin, Cos, Tanh, Sigmoid, Relu, Abs, Sqrt, Sign, Floor, Ceil, Round, LogicalNot, Square, Rsqrt,
        Log1p, Expm1, Reciprocal, IsNan, Erf, Clone, Contiguous, Detach, IsFinite, Log2, Trunc, T, Silu, Erfinv,
    }

    internal enum Binary
    {
        Add, Sub, Mul, Div, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge, Atan2, LogicalAnd, LogicalOr, Remainder,
        Matmul, Mm, Bmm, FloorDivide, LogicalXor, Dot, Outer,
    }

    // Operation names for error messages, computed once (formatting an enum per call costs as much as the call).
    private static readonly string[] UnaryNames = Enum.GetNames<Unary>().Select(n => n.ToLowerInvariant()).ToArray();
    private static readonly string[] BinaryNames = Enum.GetNames<Binary>().Select(n => n.ToLowerInvariant()).ToArray();
    private static readonly string[] ReductionNames = Enum.GetNames<Reduction>().Select(n => n.ToLowerInvariant()).ToArray();

    internal Tensor Apply(Unary op) => Result(Native.mn_unary((int)op, Handle, out var r), r, UnaryNames[(int)op], this);
    internal Tensor Apply(Binary op, Tensor other) => Result(Native.mn_binary((int)op, Handle, other.Handle, out var r), r, BinaryNames[(int)op], this, other);
    internal Tensor Apply(Binary op, double s, bool reverse = false) =>
        Result(Native.mn_binary_scalar((int)op, Handle, s, 0, 0, reverse ? 1 : 0, out var r), r, BinaryNames[(int)op], this);
    internal Tensor Apply(Binary op, long s, bool reverse = false) =>
        Result(Native.mn_binary_scalar((int)op, Handle, 0, s, 1, reverse ? 1 : 0, out var r), r, BinaryNames[(int)op], this);

    // ---- operators (broadcasting) ----
    public static Tensor operator +(Tensor a, Tensor b) => a.Apply(Binary.Add, b);
    public static Tensor operator +(Tensor a, double b) => a.Apply(Binary.Add, b);
    public static Tensor operator +(double a, Tensor b) => b.Apply(Binary.Add, a);
    public static Tensor operator -(Tensor a, Tensor b) => a.Apply(Binary.Sub, b);
    public static Tensor operator -(Tensor a, double b) => a.Apply(Binary.Sub, b);
    public static Tensor operator -(double a, Tensor b) => b.Apply(Binary.Sub, a, reverse: true);
    public static Tensor operator *(Tensor a, Tensor b) => a.Apply(Binary.Mul, b);
    public static Tensor operator *(Tensor a, double b) => a.Apply(Binary.Mul, b);
    public static Tensor operator *(double a, Tensor b) => b.Apply(Binary.Mul, a);
    public static Tensor operator /(Tensor a, Tensor b) => a.Apply(Binary.Div, b);
    public static Tensor operator /(Tensor a, double b) => a.Apply(Binary.Div, b);
    public static Tensor operator /(double a, Tensor b) => b.Apply(Binary.Div, a, reverse: true);
    public static Tensor operator %(Tensor a, Tensor b) => a.Apply(Binary.Remainder, b);
    public static Tensor operator %(Tensor a, double b) => a.Apply(Binary.Remainder, b);
    public static Tensor operator -(Tensor a) => a.Apply(Unary.Neg);
    public static Tensor operator <(Tensor a, Tensor b) => a.Apply(Binary.Lt, b);
    public static Tensor operator >(Tensor a, Tensor b) => a.Apply(Binary.Gt, b);
    public static Tensor operator <=(Tensor a, Tensor b) => a.Apply(Binary.Le, b);
    public static Tensor operator >=(Tensor a, Tensor b) => a.Apply(Binary.Ge, b);
    public static Tensor operator <(Tensor a, double b) => a.Apply(Binary.Lt, b);
    public static Tensor operator >(Tensor a, double b) => a.Apply(Binary.Gt, b);
    public static Tensor operator <=(Tensor a, double b) => a.Apply(Binary.Le, b);
    public static Tensor operator >=(Tensor a, double b) => a.Apply(Binary.Ge, b);
    // Integer scalars keep an integer tensor integral (PyTorch: arange(3) * 2 is int64); on a floating tensor they
    // act as the same double would.
    public static Tensor operator +(Tensor a, long b) => a.Apply(Binary.Add, b);
    public static Tensor operator +(long a, Tensor b) => b.Apply(Binary.Add, a);
    public static Tensor operator -(Tensor a, long b) => a.Apply(Binary.Sub, b);
    public static Tensor operator -(long a, Tensor b) => b.Apply(Binary.Sub, a, reverse: true);
    public static Tensor operator *(Tensor a, long b) => a.Apply(Binary.Mul, b);
    public static Tensor operator *(long a, Tensor b) => b.Apply(Binary.Mul, a);
    public static Tensor operator /(Tensor a, long b) => a.Apply(Binary.Div, b);
    public static Tensor operator /(long a, Tensor b) => b.Apply(Binary.Div, a, reverse: true);
    public static Tensor operator %(Tensor a, long b) => a.Apply(Binary.Remainder, b);
    public static Tensor operator <(Tensor a, long b) => a.Apply(Binary.Lt, b);
    public static Tensor operator >(Tensor a, long b) => a.Apply(Binary.Gt, b);
    public static Tensor operator <=(Tensor a, long b) => a.Apply(Binary.Le, b);
    public static Tensor operator >=(Tensor a, long b) => a.Apply(Binary.Ge, b);
    public static Tensor operator &(Tensor a, Tensor b) => a.Apply(Binary.LogicalAnd, b);
    public static Tensor operator |(Tensor a, Tensor b) => a.Apply(Binary.LogicalOr, b);
    public static Tensor operator !(Tensor a) => a.Apply(Unary.LogicalNot);

    public Tensor add(Tensor other) => Apply(Binary.Add, other);
    public Tensor add(double other) => Apply(Binary.Add, other);
    public Tensor sub(Tensor other) => Apply(Binary.Sub, other);
    public Tensor sub(double other) => Apply(Binary.Sub, other);
    public Tensor mul(Tensor other) => Apply(Binary.Mul, other);
    public Tensor mul(double other) => Apply(Binary.Mul, other);
    public Tensor div(Tensor other) => Apply(Binary.Div, other);
    public Tensor div(double other) => Apply(Binary.Div, other);
    public Tensor add(long other) => Apply(Binary.Add, other);
    public Tensor sub(long other) => Apply(Binary.Sub, other);
    public Tensor mul(long other) => Apply(Binary.Mul, other);
    public Tensor div(long other) => Apply(Binary.Div, other);
    public Tensor pow(long exponent) => Apply(Binary.Pow, exponent);
    public Tensor remainder(long other) => Apply(Binary.Remainder, other);
    public Tensor remainder(Tensor other) => Apply(Binary.Remainder, other);
    public Tensor floor_divide(long other) => Apply(Binary.FloorDivide, other);
    public Tensor floor_divide(Tensor other) => Apply(Binary.FloorDivide, other);
    public Tensor eq(long other) => Apply(Binary.Eq, other);
    public Tensor ne(long other) => Apply(Binary.Ne, other);
    public Tensor pow(Tensor exponent) => Apply(Binary.Pow, exponent);
    public Tensor pow(double exponent) => Apply(Binary.Pow, exponent);
    public Tensor maximum(Tensor other) => Apply(Binary.Maximum, other);
    public Tensor minimum(Tensor other) => Apply(Binary.Minimum, other);
    public Tensor remainder(double other) => Apply(Binary.Remainder, other);
    public Tensor floor_divide(double other) => Apply(Binary.FloorDivide, other);
    public Tensor atan2(Tensor other) => Apply(Binary.Atan2, other);

    public Tensor eq(Tensor other) => Apply(Binary.Eq, other);
    public Tensor eq(double other) => Apply(Binary.Eq, other);
    public Tensor ne(Tensor other) => Apply(Binary.Ne, other);
    public Tensor ne(double other) => Apply(Binary.Ne, other);
    public Tensor lt(Tensor other) => Apply(Binary.Lt, other);
    public Tensor lt(double other) => Apply(Binary.Lt, other);
    public Tensor le(Tensor other) => Apply(Binary.Le, other);
    public Tensor le(double other) => Apply(Binary.Le, other);
    public Tensor gt(Tensor other) => Apply(Binary.Gt, other);
    public Tensor gt(double other) => Apply(Binary.Gt, other);
    public Tensor ge(Tensor other) => Apply(Binary.Ge, other);
    public Tensor ge(double other) => Apply(Binary.Ge, other);
    public Tensor logical_and(Tensor other) => Apply(Binary.LogicalAnd, other);
    public Tensor logical_or(Tensor other) => Apply(Binary.LogicalOr, other);
    public Tensor logical_xor(Tensor other) => Apply(Binary.LogicalXor, other);
    public Tensor logical_not() => Apply(Unary.LogicalNot);

    public Tensor neg() => Apply(Unary.Neg);
    public Tensor exp() => Apply(Unary.Exp);
    public Tensor log() => Apply(Unary.Log);
    public Tensor log2() => Apply(Unary.Log2);
    public Tensor log1p() => Apply(Unary.Log1p);
    public Tensor expm1() => Apply(Unary.Expm1);
    public Tensor sin() => Apply(Unary.Sin);
    public Tensor cos() => Apply(Unary.Cos);
    public Tensor tanh() => Apply(Unary.Tanh);
    public Tensor sigmoid() => Apply(Unary.Sigmoid);
    public Tensor relu() => Apply(Unary.Relu);
    public Tensor silu() => Apply(Unary.Silu);
    public Tensor abs() => Apply(Unary.Abs);
    public Tensor sqrt() => Apply(Unary.Sqrt);
    public Tensor rsqrt() => Apply(Unary.Rsqrt);
    public Tensor square() => Apply(Unary.Square);
    public Tensor reciprocal() => Apply(Unary.Reciprocal);
    public Tensor sign() => Apply(Unary.Sign);
    public Tensor floor() => Apply(Unary.Floor);
    public Tensor ceil() => Apply(Unary.Ceil);
    public Tensor round() => Apply(Unary.Round);
    public Tensor trunc() => Apply(Unary.Trunc);
    public Tensor erf() => Apply(Unary.Erf);
    /// <summary>The inverse of erf on (−1, 1) (±inf at ±1).</summary>
    public Tensor erfinv() => Apply(Unary.Erfinv);
    public Tensor isnan() => Apply(Unary.IsNan);
    public Tensor isfinite() => Apply(Unary.IsFinite);
    public Tensor clone() => Apply(Unary.Clone);
    public Tensor contiguous() => Apply(Unary.Contiguous);
    /// <summary>The same data, cut off from the autograd graph.</summary>
    public Tensor detach() => Apply(Unary.Detach);
    /// <summary>Transpose of a matrix (≤ 2-D).</summary>
    public Tensor t() => Apply(Unary.T);

    public Tensor softmax(long dim) => torch.nn.functional.softmax(this, dim);
    public Tensor log_softmax(long dim) => torch.nn.functional.log_softmax(this, dim);

    public Tensor clamp(double? min = null, double? max = null) =>
        Result(Native.mn_clamp(Handle, min.HasValue ? 1 : 0, min ?? 0, max.HasValue ? 1 : 0, max ?? 0, 0, out var r), r, "clamp", this);
    public Tensor clamp_min(double min) => clamp(min, null);
    public Tensor clamp_max(double max) => clamp(null, max);

    public Tensor matmul(Tensor other) => Apply(Binary.Matmul, other);
    public Tensor mm(Tensor other) => Apply(Binary.Mm, other);
    public Tensor bmm(Tensor other) => Apply(Binary.Bmm, other);
    public Tensor dot(Tensor other) => Apply(Binary.Dot, other);
    public Tensor outer(Tensor other) => Apply(Binary.Outer, other);

    // ---- reductions ----
    internal enum Reduction { Sum, Mean, Std, Var, LogSumExp, Amax, Amin, Norm, Prod, All, Any }

    internal unsafe Tensor Reduce(Reduction op, long[]? dims, bool keepdim, double arg = 0)
    {
        fixed (long* p = dims)
            return Result(Native.mn_reduce((int)op, Handle, p, dims?.Length ?? -1, keepdim ? 1 : 0, arg, out var r), r, ReductionNames[(int)op], this);
    }

    public Tensor sum() => Reduce(Reduction.Sum, null, false);
    public Tensor sum(long dim, bool keepdim = false) => Reduce(Reduction.Sum, [dim], keepdim);
    public Tensor sum(long[] dims, bool keepdim = false) => Reduce(Reduction.Sum, dims, keepdim);
    public Tensor mean() => Reduce(Reduction.Mean, null, false);
    public Tensor mean(long dim, bool keepdim = false) => Reduce(Reduction.Mean, [dim], keepdim);
    public Tensor mean(long[] dims, bool keepdim = false) => Reduce(Reduction.Mean, dims, keepdim);
    /// <summary>Standard deviation; unbiased (N − 1) by default, as PyTorch.</summary>
    public Tensor std(bool unbiased = true) => Reduce(Reduction.Std, null, false, unbiased ? 1 : 0);
    public Tensor std(long dim, bool unbiased = true, bool keepdim = false) => Reduce(Reduction.Std, [dim], keepdim, unbiased ? 1 : 0);
    public Tensor var(bool unbiased = true) => Reduce(Reduction.Var, null, false, unbiased ? 1 : 0);
    public Tensor var(long dim, bool unbiased = true, bool keepdim = false) => Reduce(Reduction.Var, [dim], keepdim, unbiased ? 1 : 0);
    public Tensor std(long[] dims, bool unbiased = true, bool keepdim = false) => Reduce(Reduction.Std, dims, keepdim, unbiased ? 1 : 0);
    public Tensor var(long[] dims, bool unbiased = true, bool keepdim = false) => Reduce(Reduction.Var, dims, keepdim, unbiased ? 1 : 0);
    public Tensor logsumexp(long dim, bool keepdim = false) => Reduce(Reduction.LogSumExp, [dim], keepdim);
    public Tensor logsumexp(long[] dims, bool keepdim = false) => Reduce(Reduction.LogSumExp, dims, keepdim);
    public Tensor amax(long dim, bool keepdim = false) => Reduce(Reduction.Amax, [dim], keepdim);
    public Tensor amax(long[] dims, bool keepdim = false) => Reduce(Reduction.Amax, dims, keepdim);
    public Tensor amin(long dim, bool keepdim = false) => Reduce(Reduction.Amin, [dim], keepdim);
    public Tensor amin(long[] dims, bool keepdim = false) => Reduce(Reduction.Amin, dims, keepdim);
    /// <summary>p-norm over all elements (p = 2: Euclidean). Note: <c>norm(1)</c> binds to the dim overload; write <c>norm(1.0)</c> for p = 1.</summary>
    public Tensor norm(double p = 2) => Reduce(Reduction.Norm, null, false, p);
    public Tensor norm(long dim, double p = 2, bool keepdim = false) => Reduce(Reduction.Norm, [dim], keepdim, p);
    public Tensor norm(long[] dims, double p = 2, bool keepdim = false) => Reduce(Reduction.Norm, dims, keepdim, p);
    public Tensor prod() => Reduce(Reduction.Prod, null, false);
    public Tensor prod(long dim, bool keepdim = false) => Reduce(Reduction.Prod, [dim], keepdim);
    public Tensor all() => Reduce(Reduction.All, null, false);
    public Tensor any() => Reduce(Reduction.Any, null, false);

    /// <summary>The largest element (0-D).</summary>
    public Tensor max() => Result(Native.mn_max_all(0, Handle, out var r), r, "max", this);
    public Tensor min() => Result(Native.mn_max_all(1, Handle, out var r), r, "min", this);

    /// <summary>Largest values along dim and their indices.</summary>
    public (Tensor values, Tensor indexes) max(long dim, bool keepdim = false) => ReduceIndex(0, dim, keepdim);
    public (Tensor values, Tensor indexes) min(long dim, bool keepdim = false) => ReduceIndex(1, dim, keepdim);

    private (Tensor, Tensor) ReduceIndex(int op, long dim, bool keepdim)
    {
        Native.Check(Native.mn_reduce_index(op, Handle, 1, dim, keepdim ? 1 : 0, out var v, out var i), op == 0 ? "max" : "min");
        GC.KeepAlive(this);
        return (new Tensor(v), new Tensor(i));
    }

    public Tensor argmax() => Result(Native.mn_reduce_index(2, Handle, 0, 0, 0, out _, out var i), i, "argmax", this);
    public Tensor argmax(long dim, bool keepdim = false) => Result(Native.mn_reduce_index(2, Handle, 1, dim, keepdim ? 1 : 0, out _, out var i), i, "argmax", this);
    public Tensor argmin() => Result(Native.mn_reduce_index(3, Handle, 0, 0, 0, out _, out var i), i, "argmin", this);
    public Tensor argmin(long dim, bool keepdim = false) => Result(Native.mn_reduce_index(3, Handle, 1, dim, keepdim ? 1 : 0, out _, out var i), i, "argmin", this);

    public (Tensor values, Tensor indexes) topk(long k, long dim = -1, bool largest = true, bool sorted = true)
    {
        Native.Check(Native.mn_topk(Handle, k, dim, largest ? 1 : 0, sorted ? 1 : 0, out var v, out var i), "topk");
        GC.KeepAlive(this);
        return (new Tensor(v), new Tensor(i));
    }

    public (Tensor values, Tensor indexes) sort(long dim = -1, bool descending = false)
    {
        Native.Check(Native.mn_sort(Handle, dim, descending ? 1 : 0, out var v, out var i), "sort");
        GC.KeepAlive(this);
        return (new Tensor(v), new Tensor(i));
    }

    public Tensor cumsum(long dim) => Result(Native.mn_cumsum(Handle, dim, out var r), r, "cumsum", this);

    public bool allclose(Tensor other, double rtol = 1e-5, double atol = 1e-8)
    {
        Done(Native.mn_allclose(Handle, other.Handle, rtol, atol, out var r), "allclose", this, other);
        return r != 0;
    }

    /// <summary>Same shape and elements (torch.equal).</summary>
    public bool equal(Tensor other)
    {
        Done(Native.mn_equal(Handle, other.Handle, out var r), "equal", this, other);
        return r != 0;
    }

    // ---- conversion ----
    public Tensor to(ScalarType type, bool copy = false) => Result(Native.mn_to(Handle, (int)type, -1, -1, copy ? 1 : 0, out var r), r, "to", this);
    public Tensor to(Device device, bool copy = false) => Result(Native.mn_to(Handle, -1, (int)device.Type, device.Index, copy ? 1 : 0, out var r), r, "to", this);
    public Tensor to(Device device, ScalarType type) => Result(Native.mn_to(Handle, (int)type, (int)device.Type, device.Index, 0, out var r), r, "to", this);
    public Tensor to(string device) => to(Device.Parse(device));
    public Tensor cpu() => to(torch.CPU);
    public Tensor cuda(int index = 0) => to(new Device(DeviceType.CUDA, index));
    public Tensor @float() => to(ScalarType.Float32);
    public Tensor @double() => to(ScalarType.Float64);
    public Tensor @long() => to(ScalarType.Int64);
    public Tensor @bool() => to(ScalarType.Bool);
}

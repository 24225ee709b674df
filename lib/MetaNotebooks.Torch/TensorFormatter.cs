using System.Globalization;
using System.Numerics;
using System.Text;

namespace MetaNotebooks.Torch;

/// <summary>
/// Prints a tensor exactly as PyTorch's print (torch/_tensor_str.py with the default print options: precision 4,
/// threshold 1000, edgeitems 3, linewidth 80): tensor([[1., 2.], [3., 4.]], dtype=torch.float64, requires_grad=True).
/// Numbers are rounded as Python's format does (correctly rounded, ties to even).
/// </summary>
internal static class TensorFormatter
{
    private const int Precision = 4;
    private const int EdgeItems = 3;
    private const long Threshold = 1000;
    private const int LineWidth = 80;

    public static string Format(Tensor t)
    {
        if (t.IsDisposed) return "tensor(<disposed>)";
        const string prefix = "tensor(";
        var indent = prefix.Length;
        var shape = t.Shape;
        var dtype = t.dtype;
        var suffixes = new List<string>();
        var device = t.device;
        if (device.Type != DeviceType.CPU) suffixes.Add($"device='{(device.Index < 0 ? new Device(device.Type, 0) : device)}'");
        string body;
        var numel = t.numel();
        if (numel == 0)
        {
            if (shape.Length != 1) suffixes.Add("size=(" + string.Join(", ", shape) + ")");
            if (dtype != torch.DefaultDType) suffixes.Add($"dtype={dtype.TorchName()}");
            body = "[]";
        }
        else
        {
            if (dtype != torch.DefaultDType && dtype != ScalarType.Int64 && dtype != ScalarType.Bool) suffixes.Add($"dtype={dtype.TorchName()}");
            body = TensorStr(t, shape, dtype, numel, indent);
        }
        var gradFn = t.grad_fn;
        if (gradFn != null) suffixes.Add($"grad_fn=<{gradFn}>");
        else if (t.requires_grad) suffixes.Add("requires_grad=True");
        return AddSuffixes(prefix + body, suffixes, indent);
    }

    /// <summary>_add_suffixes: a suffix that would pass the line width goes on its own line.</summary>
    private static string AddSuffixes(string tensorStr, List<string> suffixes, int indent)
    {
        var sb = new StringBuilder(tensorStr);
        var lastLineLength = tensorStr.Length - tensorStr.LastIndexOf('\n') + 1;
        foreach (var suffix in suffixes)
        {
            if (lastLineLength + suffix.Length + 2 > LineWidth)
            {
                sb.Append(",\n").Append(' ', indent).Append(suffix);
                lastLineLength = indent + suffix.Length;
            }
            else
            {
                sb.Append(", ").Append(suffix);
                lastLineLength += suffix.Length + 2;
            }
        }
        return sb.Append(')').ToString();
    }

    private static string TensorStr(Tensor t, long[] shape, ScalarType dtype, long numel, int indent)
    {
        var summarize = numel > Threshold;
        // get_summarized_data: only the edge items of every long dim are read back.
        var data = t.Alias();
        try
        {
            if (summarize)
            {
                for (var d = 0; d < shape.Length; d++)
                {
                    if (shape[d] <= 2 * EdgeItems) continue;
                    var n = shape[d];
                    using var idx = torch.tensor(new long[] { 0, 1, 2, n - 3, n - 2, n - 1 });
                    var next = data.index_select(d, idx);
                    data.Dispose();
                    data = next;
                }
            }
            var sshape = data.Shape;
            Cells cells = dtype == ScalarType.Bool ? new Cells(data.ToArray<bool>().Select(b => b ? "True" : "False").ToArray())
                : dtype.IsFloatingPoint() ? Cells.Floating(data.ToArray<double>())
                : new Cells(data.ToArray<long>().Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray());
            var sb = new StringBuilder();
            if (shape.Length == 0) sb.Append(cells.Text[0]);
            else Append(sb, cells, shape, sshape, 0, 0, summarize, indent);
            return sb.ToString();
        }
        finally
        {
            data.Dispose();
        }
    }

    /// <summary>The formatted elements (of the summarized data), already padded to a common width (_Formatter).</summary>
    private sealed class Cells
    {
        public readonly string[] Text;
        public readonly int Width;

        public Cells(string[] raw, int? width = null)
        {
            Width = width ?? Math.Max(1, raw.Length == 0 ? 1 : raw.Max(s => s.Length));
            Text = raw.Select(s => s.PadLeft(Width)).ToArray();
        }

        public static Cells Floating(double[] values)
        {
            var nonzeroFinite = values.Where(v => double.IsFinite(v) && v != 0).ToArray();
            bool intMode = true, sciMode = false;
            var width = 1;
            if (nonzeroFinite.Length > 0)
            {
                var abs = nonzeroFinite.Select(Math.Abs).ToArray();
                double min = abs.Min(), max = abs.Max();
                intMode = nonzeroFinite.All(v => v == Math.Ceiling(v));
                if (intMode)
                {
                    sciMode = max / min > 1000 || max > 1e8;
                    width = sciMode ? nonzeroFinite.Max(v => Sci(v).Length) : nonzeroFinite.Max(v => Fixed(v, 0).Length + 1);
                }
                else
                {
                    sciMode = max / min > 1000 || max > 1e8 || min < 1e-4;
                    width = sciMode ? nonzeroFinite.Max(v => Sci(v).Length) : nonzeroFinite.Max(v => Fixed(v, Precision).Length);
                }
                width = Math.Max(1, width);
            }
            var raw = values.Select(v =>
                sciMode ? Sci(v)
                : intMode ? Fixed(v, 0) + (double.IsFinite(v) ? "." : "")
                : Fixed(v, Precision)).ToArray();
            return new Cells(raw, width);
        }
    }

    private static void Append(StringBuilder sb, Cells cells, long[] shape, long[] sshape, int dim, long offset, bool summarize, int indent)
    {
        long stride = 1;
        for (var d = dim + 1; d < sshape.Length; d++) stride *= sshape[d];
        var elided = summarize && shape[dim] > 2 * EdgeItems;
        var n = sshape[dim];
        if (dim == shape.Length - 1)
        {
            // _vector_str: as many elements per line as fit in the line width.
            var items = new List<string>();
            for (long i = 0; i < n; i++)
            {
                if (elided && i == EdgeItems) items.Add(" ...");
                items.Add(cells.Text[offset + i]);
            }
            var perLine = Math.Max(1, (LineWidth - indent) / (cells.Width + 2));
            sb.Append('[');
            for (var i = 0; i < items.Count; i++)
            {
                if (i > 0) sb.Append(i % perLine == 0 ? ",\n" + new string(' ', indent + 1) : ", ");
                sb.Append(items[i]);
            }
            sb.Append(']');
            return;
        }
        var separator = "," + new string('\n', shape.Length - dim - 1) + new string(' ', indent + 1);
        sb.Append('[');
        for (long i = 0; i < n; i++)
        {
            if (i > 0) sb.Append(separator);
            if (elided && i == EdgeItems) sb.Append("...").Append(separator);
            Append(sb, cells, shape, sshape, dim + 1, offset + i * stride, summarize, indent + 1);
        }
        sb.Append(']');
    }

    // ---- Python's "{:.Nf}" and "{:.4e}": exact binary value, rounded half to even ----

    private static string NonFinite(double v) => double.IsNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";

    /// <summary>Python's format(v, ".{decimals}f").</summary>
    internal static string Fixed(double v, int decimals)
    {
        if (!double.IsFinite(v)) return NonFinite(v);
        var (num, den) = Exact(Math.Abs(v));
        var q = RoundHalfEven(num * BigInteger.Pow(10, decimals), den);
        var digits = q.ToString(CultureInfo.InvariantCulture).PadLeft(decimals + 1, '0');
        var text = decimals == 0 ? digits : digits[..^decimals] + "." + digits[^decimals..];
        return (double.IsNegative(v) ? "-" : "") + text;
    }

    /// <summary>Python's format(v, ".4e"): d.dddde±XX.</summary>
    internal static string Sci(double v, int decimals = Precision)
    {
        if (!double.IsFinite(v)) return NonFinite(v);
        var sign = double.IsNegative(v) ? "-" : "";
        var a = Math.Abs(v);
        if (a == 0) return sign + "0." + new string('0', decimals) + "e+00";
        var (num, den) = Exact(a);
        var exp = (int)Math.Floor(Math.Log10(a));
        BigInteger q;
        var lo = BigInteger.Pow(10, decimals);
        var hi = lo * 10;
        while (true)
        {
            var shift = decimals - exp;
            q = shift >= 0 ? RoundHalfEven(num * BigInteger.Pow(10, shift), den) : RoundHalfEven(num, den * BigInteger.Pow(10, -shift));
            if (q >= hi) exp++;
            else if (q < lo) exp--;
            else break;
        }
        var digits = q.ToString(CultureInfo.InvariantCulture);
        var mantissa = decimals == 0 ? digits : digits[..1] + "." + digits[1..];
        return $"{sign}{mantissa}e{(exp < 0 ? '-' : '+')}{Math.Abs(exp):00}";
    }

    /// <summary>A finite non-negative double as an exact fraction num / den (den a power of two).</summary>
    private static (BigInteger num, BigInteger den) Exact(double a)
    {
        var bits = BitConverter.DoubleToInt64Bits(a);
        var exponent = (int)((bits >> 52) & 0x7FF);
        var mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0) exponent = 1; // subnormal
        else mantissa |= 1L << 52;
        var e = exponent - 1075;
        return e >= 0 ? (new BigInteger(mantissa) << e, BigInteger.One) : (new BigInteger(mantissa), BigInteger.One << -e);
    }

    private static BigInteger RoundHalfEven(BigInteger num, BigInteger den)
    {
        var q = BigInteger.DivRem(num, den, out var r);
        var twice = r * 2;
        if (twice > den || (twice == den && !q.IsEven)) q += 1;
        return q;
    }
}

using System.Globalization;
using System.Text;

namespace MetaNotebooks.Torch;

/// <summary>Prints a tensor the way PyTorch does: tensor([[1., 2.], [3., 4.]], dtype=torch.float64, requires_grad=True).</summary>
internal static class TensorFormatter
{
    private const int EdgeItems = 3;
    private const long Threshold = 1000;

    public static string Format(Tensor t)
    {
        if (t.IsDisposed) return "tensor(<disposed>)";
        var shape = t.Shape;
        var dtype = t.dtype;
        var values = t.ToArray<double>();
        var summarise = values.LongLength > Threshold;
        var isFloat = dtype.IsFloatingPoint();
        var cell = CellFormat(values, isFloat, dtype);
        var sb = new StringBuilder("tensor(");
        if (shape.Length == 0) sb.Append(cell(values[0]));
        else Append(sb, values, shape, 0, 0, summarise, cell, "tensor(".Length);
        var suffix = new List<string>();
        if (values.Length == 0 && shape.Length > 1) suffix.Add($"size=({string.Join(", ", shape)})");
        if (dtype != ScalarType.Float32 && dtype != ScalarType.Int64 && dtype != ScalarType.Bool) suffix.Add($"dtype={dtype.TorchName()}");
        var device = t.device;
        if (device.Type != DeviceType.CPU) suffix.Add($"device='{device}'");
        var gradFn = t.grad_fn;
        if (gradFn != null) suffix.Add($"grad_fn=<{gradFn}>");
        else if (t.requires_grad) suffix.Add("requires_grad=True");
        foreach (var s in suffix) sb.Append(", ").Append(s);
        return sb.Append(')').ToString();
    }

    private static Func<double, string> CellFormat(double[] values, bool isFloat, ScalarType dtype)
    {
        if (dtype == ScalarType.Bool) return v => v != 0 ? "True" : "False";
        if (!isFloat) return v => ((long)v).ToString(CultureInfo.InvariantCulture);
        var finite = values.Where(double.IsFinite).ToArray();
        var integral = finite.All(v => v == Math.Floor(v));
        var maxAbs = finite.Length == 0 ? 0 : finite.Max(Math.Abs);
        var minAbs = finite.Where(v => v != 0).Select(Math.Abs).DefaultIfEmpty(0).Min();
        var scientific = maxAbs >= 1e8 || (minAbs > 0 && minAbs < 1e-4) || (maxAbs > 0 && minAbs > 0 && maxAbs / minAbs > 1000 && !integral);
        Func<double, string> raw = v =>
            double.IsNaN(v) ? "nan" : double.IsPositiveInfinity(v) ? "inf" : double.IsNegativeInfinity(v) ? "-inf" :
            scientific ? v.ToString("0.0000e+00", CultureInfo.InvariantCulture) :
            integral ? v.ToString("0", CultureInfo.InvariantCulture) + "." :
            v.ToString("0.0000", CultureInfo.InvariantCulture);
        var width = values.Length == 0 ? 0 : values.Take(10000).Max(v => raw(v).Length);
        return v => raw(v).PadLeft(width);
    }

    private static void Append(StringBuilder sb, double[] values, long[] shape, int dim, long offset, bool summarise, Func<double, string> cell, int indent)
    {
        sb.Append('[');
        var n = shape[dim];
        long stride = 1;
        for (var d = dim + 1; d < shape.Length; d++) stride *= shape[d];
        var last = dim == shape.Length - 1;
        for (long i = 0; i < n; i++)
        {
            if (summarise && n > 2 * EdgeItems && i == EdgeItems)
            {
                sb.Append(last ? "..., " : "...,\n" + new string(' ', indent + dim + 1));
                i = n - EdgeItems - 1;
                continue;
            }
            if (last) sb.Append(cell(values[offset + i]));
            else Append(sb, values, shape, dim + 1, offset + i * stride, summarise, cell, indent);
            if (i < n - 1) sb.Append(last ? ", " : "," + new string('\n', shape.Length - dim - 1) + new string(' ', indent + dim + 1));
        }
        sb.Append(']');
    }
}

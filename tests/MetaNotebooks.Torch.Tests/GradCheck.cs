using System.Text;

namespace MetaNotebooks.Torch.Tests;

/// <summary>
/// gradcheck and gradgradcheck in float64 against central finite differences, in the spirit of
/// torch.autograd.gradcheck. The output y = f(x₁, …, xₙ) is projected on a fixed random u (L = Σ u·y), so one
/// backward gives every input's full gradient dL/dxₖ (the vector–Jacobian product uᵀJ), which is compared with
/// (L(x + ε eᵢ) − L(x − ε eᵢ)) / 2ε element by element. The second-order check differentiates
/// S = Σₖ Σ vₖ · dL/dxₖ (gradients built with createGraph) and compares dS/dx with central differences of S,
/// where S at a perturbed point is computed from first-order analytic gradients.
/// </summary>
public static class GradCheck
{
    public const double Eps = 1e-6;
    public const double Atol = 1e-5;
    public const double Rtol = 1e-5;

    /// <summary>Checks first-order (and, when secondOrder, second-order) gradients of f at the given inputs.</summary>
    /// <param name="f">The function; it receives float64 tensors and may capture constant tensors (targets, indices).</param>
    /// <param name="inputs">Points at which to check; converted to float64 leaves that require grad.</param>
    public static void Assert(string name, Func<Tensor[], Tensor> f, Tensor[] inputs, bool secondOrder = true,
                              double eps = Eps, double atol = Atol, double rtol = Rtol, ulong seed = 1234)
    {
        using var scope = torch.NewDisposeScope();
        using var gen = new Generator(seed);
        var values = inputs.Select(t => t.to(ScalarType.Float64).ToArray<double>()).ToArray();
        var shapes = inputs.Select(t => t.shape).ToArray();

        Tensor[] Leaves(double[][] vals) =>
            vals.Select((v, k) => torch.tensor(v, shapes[k]).requires_grad_()).ToArray();

        // u: the projection of the output.
        Tensor u;
        using (torch.no_grad())
        {
            var y0 = f(Leaves(values));
            Xunit.Assert.True(y0.dtype == ScalarType.Float64, $"{name}: output dtype is {y0.dtype}, expected Float64");
            u = torch.randn(y0.shape, gen, ScalarType.Float64);
        }

        // ---- first order ----
        double L(double[][] vals)
        {
            using var s = torch.NewDisposeScope();
            using var _ = torch.no_grad();
            return (f(Leaves(vals)) * u).sum().item<double>();
        }

        Tensor[] FirstGrad(Tensor[] xs, bool createGraph)
        {
            var y = f(xs);
            Xunit.Assert.True(y.requires_grad, $"{name}: the output does not require grad");
            return torch.autograd.grad([y], xs, [u], retainGraph: createGraph, createGraph: createGraph, allowUnused: true);
        }

        var analytic = FirstGrad(Leaves(values), false).Select(g => g.ToArray<double>()).ToArray();
        var numeric = Numeric(values, L, eps);
        Compare(name, "grad", shapes, analytic, numeric, atol, rtol);
        if (!secondOrder) return;

        // ---- second order ----
        var vs = shapes.Select(s => torch.randn(s, gen, ScalarType.Float64)).ToArray();

        Tensor S(Tensor[] grads)
        {
            Tensor? acc = null;
            for (var k = 0; k < grads.Length; k++)
            {
                var term = (grads[k] * vs[k]).sum();
                acc = acc is null ? term : acc + term;
            }
            return acc!;
        }

        double SValue(double[][] vals)
        {
            using var s = torch.NewDisposeScope();
            return S(FirstGrad(Leaves(vals), false)).item<double>();
        }

        var leaves = Leaves(values);
        var s0 = S(FirstGrad(leaves, true));
        double[][] analytic2;
        if (!s0.requires_grad)
            analytic2 = values.Select(v => new double[v.Length]).ToArray(); // the gradient does not depend on the inputs
        else
            analytic2 = torch.autograd.grad([s0], leaves, allowUnused: true).Select(g => g.ToArray<double>()).ToArray();
        var numeric2 = Numeric(values, SValue, eps);
        Compare(name, "gradgrad", shapes, analytic2, numeric2, atol, rtol);
    }

    private static double[][] Numeric(double[][] values, Func<double[][], double> fn, double eps)
    {
        var result = new double[values.Length][];
        for (var k = 0; k < values.Length; k++)
        {
            result[k] = new double[values[k].Length];
            for (var i = 0; i < values[k].Length; i++)
            {
                var orig = values[k][i];
                values[k][i] = orig + eps;
                var plus = fn(values);
                values[k][i] = orig - eps;
                var minus = fn(values);
                values[k][i] = orig;
                result[k][i] = (plus - minus) / (2 * eps);
            }
        }
        return result;
    }

    private static void Compare(string name, string what, long[][] shapes, double[][] analytic, double[][] numeric, double atol, double rtol)
    {
        var errors = new StringBuilder();
        var count = 0;
        for (var k = 0; k < analytic.Length; k++)
        {
            Xunit.Assert.Equal(numeric[k].Length, analytic[k].Length);
            for (var i = 0; i < analytic[k].Length; i++)
            {
                double a = analytic[k][i], n = numeric[k][i];
                if (Math.Abs(a - n) <= atol + rtol * Math.Abs(n) && !double.IsNaN(a)) continue;
                if (count++ < 8)
                    errors.AppendLine($"  input {k} [{string.Join(", ", shapes[k])}] element {i}: analytic {a:R}, numeric {n:R}");
            }
        }
        if (count > 0)
            Xunit.Assert.Fail($"{name}: {what} mismatch in {count} element(s) (atol {atol}, rtol {rtol}):\n{errors}");
    }
}

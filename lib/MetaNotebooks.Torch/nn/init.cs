namespace MetaNotebooks.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>torch.nn.init: in-place initialisers with PyTorch's formulas (no graph recorded).</summary>
        public static class init
        {
            /// <summary>fan_in and fan_out of a weight [out, in, k…], as PyTorch's _calculate_fan_in_and_fan_out.</summary>
            public static (long fanIn, long fanOut) CalculateFans(Tensor t)
            {
                var s = t.Shape;
                if (s.Length < 2) throw new ArgumentException("Fan in and fan out can not be computed for a tensor with fewer than 2 dimensions");
                long receptive = 1;
                for (var i = 2; i < s.Length; i++) receptive *= s[i];
                return (s[1] * receptive, s[0] * receptive);
            }

            /// <summary>Gain of a nonlinearity ("relu" √2, "leaky_relu" √(2/(1+a²)), "tanh" 5/3, "linear"/"sigmoid" 1).</summary>
            public static double calculate_gain(string nonlinearity, double param = 0.01) => nonlinearity switch
            {
                "linear" or "conv2d" or "sigmoid" => 1,
                "tanh" => 5.0 / 3,
                "relu" => Math.Sqrt(2),
                "leaky_relu" => Math.Sqrt(2 / (1 + param * param)),
                _ => throw new ArgumentException($"Unsupported nonlinearity {nonlinearity}"),
            };

            public static Tensor uniform_(Tensor t, double a = 0, double b = 1, Generator? generator = null)
            {
                using var _ = no_grad();
                return t.uniform_(a, b, generator);
            }

            public static Tensor normal_(Tensor t, double mean = 0, double std = 1, Generator? generator = null)
            {
                using var _ = no_grad();
                return t.normal_(mean, std, generator);
            }

            /// <summary>
            /// The normal N(mean, std²) truncated to [a, b] (a and b are values, not multiples of std, as in PyTorch),
            /// by PyTorch's inverse CDF: u uniform in [2Φ(α) − 1, 2Φ(β) − 1] (α, β the standardised bounds), then
            /// mean + std·√2·erfinv(u), clamped to [a, b] against rounding. TensorFlow's tf.truncated_normal (redraw
            /// what falls beyond 2σ) is this law with a = mean − 2·std, b = mean + 2·std; its std is ≈ 0.880·std.
            /// </summary>
            public static Tensor trunc_normal_(Tensor t, double mean = 0, double std = 1, double a = -2, double b = 2, Generator? generator = null)
            {
                if (!(std > 0) || !(a < b) || !double.IsFinite(mean))
                    throw new ArgumentException($"trunc_normal_ needs std > 0, a < b and a finite mean, got mean {mean}, std {std}, [a, b] = [{a}, {b}]");
                double lo, hi;
                using (var bounds = tensor(new[] { (a - mean) / (std * Math.Sqrt(2)), (b - mean) / (std * Math.Sqrt(2)) }))
                using (var erf = bounds.erf())
                {
                    var e = erf.ToArray<double>();                   // erf(α/√2) = 2Φ(α) − 1
                    (lo, hi) = (e[0], e[1]);
                }
                using var _ = no_grad();
                t.uniform_(lo, hi, generator);
                t.erfinv_();
                t.mul_(std * Math.Sqrt(2));
                t.add_(mean);
                return t.clamp_(a, b);
            }

            public static Tensor constant_(Tensor t, double value)
            {
                using var _ = no_grad();
                return t.fill_(value);
            }

            public static Tensor zeros_(Tensor t) => constant_(t, 0);
            public static Tensor ones_(Tensor t) => constant_(t, 1);

            /// <summary>U(−bound, bound), bound = gain·√(3 / fan_in) (mode fan_in), gain for leaky_relu with slope a.</summary>
            public static Tensor kaiming_uniform_(Tensor t, double a = 0, bool fanIn = true, string nonlinearity = "leaky_relu", Generator? generator = null)
            {
                var (fi, fo) = CalculateFans(t);
                var std = calculate_gain(nonlinearity, a) / Math.Sqrt(fanIn ? fi : fo);
                var bound = Math.Sqrt(3) * std;
                return uniform_(t, -bound, bound, generator);
            }

            public static Tensor kaiming_normal_(Tensor t, double a = 0, bool fanIn = true, string nonlinearity = "leaky_relu", Generator? generator = null)
            {
                var (fi, fo) = CalculateFans(t);
                return normal_(t, 0, calculate_gain(nonlinearity, a) / Math.Sqrt(fanIn ? fi : fo), generator);
            }

            public static Tensor xavier_uniform_(Tensor t, double gain = 1, Generator? generator = null)
            {
                var (fi, fo) = CalculateFans(t);
                var bound = gain * Math.Sqrt(6.0 / (fi + fo));
                return uniform_(t, -bound, bound, generator);
            }

            public static Tensor xavier_normal_(Tensor t, double gain = 1, Generator? generator = null)
            {
                var (fi, fo) = CalculateFans(t);
                return normal_(t, 0, gain * Math.Sqrt(2.0 / (fi + fo)), generator);
            }
        }
    }
}

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

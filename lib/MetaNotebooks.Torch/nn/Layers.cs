namespace MetaNotebooks.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>y = x Wᵀ + b, initialised as PyTorch's nn.Linear (kaiming_uniform with a = √5; bias U(±1/√in)).</summary>
        public sealed class Linear : Module
        {
            public long InFeatures { get; }
            public long OutFeatures { get; }
            public Tensor weight { get; }
            public Tensor? bias { get; }

            public Linear(long inFeatures, long outFeatures, bool hasBias = true, ScalarType? dtype = null, Generator? generator = null)
            {
                InFeatures = inFeatures;
                OutFeatures = outFeatures;
                weight = RegisterParameter("weight", empty([outFeatures, inFeatures], dtype));
                init.kaiming_uniform_(weight, Math.Sqrt(5), generator: generator);
                if (hasBias)
                {
                    var bound = 1 / Math.Sqrt(inFeatures);
                    bias = RegisterParameter("bias", empty([outFeatures], dtype));
                    init.uniform_(bias, -bound, bound, generator);
                }
            }

            protected override Tensor Forward(Tensor input, IReadOnlyList<Tensor> p) =>
                functional.linear(input, p[0], p.Count > 1 ? p[1] : null);
        }

        /// <summary>2-D convolution, initialised as PyTorch's nn.Conv2d.</summary>
        public sealed class Conv2d : Module
        {
            public long Stride { get; }
            public long Padding { get; }
            public long Dilation { get; }
            public long Groups { get; }
            public Tensor weight { get; }
            public Tensor? bias { get; }

            public Conv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long dilation = 1, long groups = 1,
                          bool hasBias = true, ScalarType? dtype = null, Generator? generator = null)
            {
                (Stride, Padding, Dilation, Groups) = (stride, padding, dilation, groups);
                weight = RegisterParameter("weight", empty([outChannels, inChannels / groups, kernelSize, kernelSize], dtype));
                init.kaiming_uniform_(weight, Math.Sqrt(5), generator: generator);
                if (hasBias)
                {
                    var bound = 1 / Math.Sqrt(inChannels / groups * kernelSize * kernelSize);
                    bias = RegisterParameter("bias", empty([outChannels], dtype));
                    init.uniform_(bias, -bound, bound, generator);
                }
            }

            protected override Tensor Forward(Tensor input, IReadOnlyList<Tensor> p) =>
                functional.conv2d(input, p[0], p.Count > 1 ? p[1] : null, Stride, Padding, Dilation, Groups);
        }

        /// <summary>
        /// Batch norm over [N, C, H, W]. In training mode it normalises with the batch's statistics and updates the running
        /// ones; in eval mode it uses the running ones. trackRunningStats = false always uses the batch's (as MAML's code).
        /// </summary>
        public sealed class BatchNorm2d : Module
        {
            public double Eps { get; }
            public double Momentum { get; }
            public Tensor weight { get; }
            public Tensor bias { get; }
            public Tensor? running_mean { get; }
            public Tensor? running_var { get; }

            public BatchNorm2d(long features, double eps = 1e-5, double momentum = 0.1, bool trackRunningStats = true, ScalarType? dtype = null)
            {
                (Eps, Momentum) = (eps, momentum);
                weight = RegisterParameter("weight", ones([features], dtype));
                bias = RegisterParameter("bias", zeros([features], dtype));
                if (trackRunningStats)
                {
                    running_mean = RegisterBuffer("running_mean", zeros([features], dtype));
                    running_var = RegisterBuffer("running_var", ones([features], dtype));
                }
            }

            protected override Tensor Forward(Tensor input, IReadOnlyList<Tensor> p) =>
                functional.batch_norm(input, running_mean, running_var, p[0], p[1], training || running_mean is null, Momentum, Eps);
        }

        /// <summary>An LSTM cell; Forward takes [B, I] and runs from a zero state. Use Step for an explicit state.</summary>
        public sealed class LSTMCell : Module
        {
            public long HiddenSize { get; }
            public Tensor weight_ih { get; }
            public Tensor weight_hh { get; }
            public Tensor bias_ih { get; }
            public Tensor bias_hh { get; }

            public LSTMCell(long inputSize, long hiddenSize, ScalarType? dtype = null, Generator? generator = null)
            {
                HiddenSize = hiddenSize;
                var bound = 1 / Math.Sqrt(hiddenSize);
                weight_ih = RegisterParameter("weight_ih", empty([4 * hiddenSize, inputSize], dtype));
                weight_hh = RegisterParameter("weight_hh", empty([4 * hiddenSize, hiddenSize], dtype));
                bias_ih = RegisterParameter("bias_ih", empty([4 * hiddenSize], dtype));
                bias_hh = RegisterParameter("bias_hh", empty([4 * hiddenSize], dtype));
                foreach (var p in parameters()) init.uniform_(p, -bound, bound, generator);
            }

            /// <summary>One step from state (h, c) with explicit parameters (weight_ih, weight_hh, bias_ih, bias_hh).</summary>
            public (Tensor h, Tensor c) Step(Tensor input, (Tensor h, Tensor c) state, IReadOnlyList<Tensor>? p = null)
            {
                p ??= parameters();
                return functional.lstm_cell(input, state, p[0], p[1], p[2], p[3]);
            }

            protected override Tensor Forward(Tensor input, IReadOnlyList<Tensor> p)
            {
                using var h0 = zeros([input.size(0), HiddenSize], input.dtype);
                using var c0 = zeros([input.size(0), HiddenSize], input.dtype);
                var (h, c) = Step(input, (h0, c0), p);
                c.Dispose();
                return h;
            }
        }

        public sealed class ReLU : Module
        {
            protected override Tensor Forward(Tensor input, IReadOnlyList<Tensor> p) => input.relu();
        }

        /// <summary>Zeroes elements with probability p in training mode (scaling the rest by 1/(1−p)); identity in eval mode.</summary>
        public sealed class Dropout(double p = 0.5, Generator? generator = null) : Module
        {
            protected override Tensor Forward(Tensor input, IReadOnlyList<Tensor> parameters) => functional.dropout(input, p, training, generator);
        }

        public sealed class Flatten(long startDim = 1, long endDim = -1) : Module
        {
            protected override Tensor Forward(Tensor input, IReadOnlyList<Tensor> p) => input.flatten(startDim, endDim);
        }

        public sealed class MaxPool2d(long kernelSize, long? stride = null, long padding = 0, bool ceilMode = false) : Module
        {
            protected override Tensor Forward(Tensor input, IReadOnlyList<Tensor> p) => functional.max_pool2d(input, kernelSize, stride, padding, 1, ceilMode);
        }

        /// <summary>Modules applied in order; its functional forward hands each child its slice of the parameter list.</summary>
        public sealed class Sequential : Module
        {
            public Sequential(params Module[] modules)
            {
                for (var i = 0; i < modules.Length; i++) RegisterModule(i.ToString(), modules[i]);
            }

            protected override Tensor Forward(Tensor input, IReadOnlyList<Tensor> p)
            {
                var children = Children;
                var x = input;
                for (var i = 0; i < children.Count; i++)
                {
                    var next = children[i].forward(x, ChildParameters(p, i));
                    if (!ReferenceEquals(x, input) && !ReferenceEquals(x, next)) x.Dispose();
                    x = next;
                }
                return ReferenceEquals(x, input) ? x.Alias() : x;
            }
        }
    }
}

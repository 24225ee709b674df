namespace MetaNotebooks.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>How a loss reduces over elements, as PyTorch's reduction='none' | 'mean' | 'sum'.</summary>
        public enum Reduction { None = 0, Mean = 1, Sum = 2 }

        /// <summary>torch.nn.functional: stateless layers, activations and losses.</summary>
        public static class functional
        {
            private static IntPtr H(Tensor? t) => t?.Handle ?? IntPtr.Zero;

            private static Tensor R(IntPtr error, IntPtr result, string op, params Tensor?[] keep)
            {
                var r = Tensor.Result(error, result, op);
                GC.KeepAlive(keep);
                return r;
            }

            public static Tensor linear(Tensor input, Tensor weight, Tensor? bias = null) =>
                R(Native.mn_linear(input.Handle, weight.Handle, H(bias), out var r), r, "linear", input, weight, bias);

            public static unsafe Tensor conv2d(Tensor input, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long dilation = 1, long groups = 1) =>
                conv2d(input, weight, bias, (stride, stride), (padding, padding), (dilation, dilation), groups);

            public static unsafe Tensor conv2d(Tensor input, Tensor weight, Tensor? bias, (long h, long w) stride, (long h, long w) padding, (long h, long w) dilation, long groups = 1)
            {
                long* p = stackalloc long[] { stride.h, stride.w, padding.h, padding.w, dilation.h, dilation.w, 0, 0 };
                return R(Native.mn_conv2d(input.Handle, weight.Handle, H(bias), p, groups, 0, out var r), r, "conv2d", input, weight, bias);
            }

            public static unsafe Tensor conv_transpose2d(Tensor input, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long outputPadding = 0, long groups = 1, long dilation = 1)
            {
                long* p = stackalloc long[] { stride, stride, padding, padding, dilation, dilation, outputPadding, outputPadding };
                return R(Native.mn_conv2d(input.Handle, weight.Handle, H(bias), p, groups, 1, out var r), r, "conv_transpose2d", input, weight, bias);
            }

            /// <summary>Max pooling; stride defaults to the kernel size, as PyTorch.</summary>
            public static unsafe Tensor max_pool2d(Tensor input, long kernelSize, long? stride = null, long padding = 0, long dilation = 1, bool ceilMode = false)
            {
                var s = stride ?? kernelSize;
                long* p = stackalloc long[] { kernelSize, kernelSize, s, s, padding, padding, dilation, dilation };
                return R(Native.mn_pool2d(0, input.Handle, p, ceilMode ? 1 : 0, 0, out var r), r, "max_pool2d", input);
            }

            public static unsafe Tensor avg_pool2d(Tensor input, long kernelSize, long? stride = null, long padding = 0, bool ceilMode = false, bool countIncludePad = true)
            {
                var s = stride ?? kernelSize;
                long* p = stackalloc long[] { kernelSize, kernelSize, s, s, padding, padding, 1, 1 };
                return R(Native.mn_pool2d(1, input.Handle, p, ceilMode ? 1 : 0, countIncludePad ? 1 : 0, out var r), r, "avg_pool2d", input);
            }

            public static Tensor adaptive_avg_pool2d(Tensor input, long outputHeight, long outputWidth) =>
                R(Native.mn_adaptive_avg_pool2d(input.Handle, outputHeight, outputWidth, out var r), r, "adaptive_avg_pool2d", input);

            /// <summary>
            /// Batch norm. training = true normalises with the batch's statistics (and updates running stats when given);
            /// training = false uses the running stats.
            /// </summary>
            public static Tensor batch_norm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null,
                                            bool training = false, double momentum = 0.1, double eps = 1e-5)
            {
                if (!training && (runningMean is null || runningVar is null))
                    throw new TorchException("batch_norm", "evaluation mode (training = false) needs runningMean and runningVar");
                return R(Native.mn_batch_norm(input.Handle, H(runningMean), H(runningVar), H(weight), H(bias), training ? 1 : 0, momentum, eps, out var r), r,
                    "batch_norm", input, runningMean, runningVar, weight, bias);
            }

            public static unsafe Tensor layer_norm(Tensor input, long[] normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
            {
                fixed (long* s = normalizedShape)
                    return R(Native.mn_layer_norm(input.Handle, s, normalizedShape.Length, H(weight), H(bias), eps, out var r), r, "layer_norm", input, weight, bias);
            }

            public static Tensor dropout(Tensor input, double p = 0.5, bool training = true, Generator? generator = null)
            {
                var r = R(Native.mn_dropout(input.Handle, p, training ? 1 : 0, generator?.Handle ?? IntPtr.Zero, out var h), h, "dropout", input);
                GC.KeepAlive(generator);
                return r;
            }

            private static Tensor Activation(int op, Tensor x, double a, double b, string name) =>
                R(Native.mn_activation(op, x.Handle, a, b, out var r), r, name, x);

            public static Tensor relu(Tensor x) => x.relu();
            public static Tensor sigmoid(Tensor x) => x.sigmoid();
            public static Tensor tanh(Tensor x) => x.tanh();
            public static Tensor leaky_relu(Tensor x, double negativeSlope = 0.01) => Activation(0, x, negativeSlope, 0, "leaky_relu");
            public static Tensor elu(Tensor x, double alpha = 1.0) => Activation(1, x, alpha, 0, "elu");
            public static Tensor softplus(Tensor x, double beta = 1, double threshold = 20) => Activation(2, x, beta, threshold, "softplus");
            public static Tensor softmax(Tensor x, long dim) => Activation(3, x, dim, 0, "softmax");
            public static Tensor log_softmax(Tensor x, long dim) => Activation(4, x, dim, 0, "log_softmax");
            public static Tensor gelu(Tensor x) => Activation(5, x, 0, 0, "gelu");
            public static Tensor hardtanh(Tensor x, double min = -1, double max = 1) => Activation(6, x, min, max, "hardtanh");

            private static Tensor Loss(int op, Tensor input, Tensor target, Tensor? weight, Tensor? extra, Reduction reduction, long ignoreIndex, double arg, string name) =>
                R(Native.mn_loss(op, input.Handle, target.Handle, H(weight), H(extra), (int)reduction, ignoreIndex, arg, out var r), r, name, input, target, weight, extra);

            /// <summary>Cross-entropy of logits [N, C] against class indices [N] (or class probabilities [N, C]).</summary>
            public static Tensor cross_entropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean, long ignoreIndex = -100, double labelSmoothing = 0) =>
                Loss(0, input, target, weight, null, reduction, ignoreIndex, labelSmoothing, "cross_entropy");
            public static Tensor nll_loss(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean, long ignoreIndex = -100) =>
                Loss(1, input, target, weight, null, reduction, ignoreIndex, 0, "nll_loss");
            public static Tensor mse_loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
                Loss(2, input, target, null, null, reduction, 0, 0, "mse_loss");
            public static Tensor binary_cross_entropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean) =>
                Loss(3, input, target, weight, null, reduction, 0, 0, "binary_cross_entropy");
            public static Tensor binary_cross_entropy_with_logits(Tensor input, Tensor target, Tensor? weight = null, Tensor? posWeight = null, Reduction reduction = Reduction.Mean) =>
                Loss(4, input, target, weight, posWeight, reduction, 0, 0, "binary_cross_entropy_with_logits");
            public static Tensor l1_loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
                Loss(5, input, target, null, null, reduction, 0, 0, "l1_loss");
            public static Tensor smooth_l1_loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double beta = 1) =>
                Loss(6, input, target, null, null, reduction, 0, beta, "smooth_l1_loss");

            public static Tensor cosine_similarity(Tensor x1, Tensor x2, long dim = 1, double eps = 1e-8) =>
                R(Native.mn_distance(0, x1.Handle, x2.Handle, eps, 0, dim, out var r), r, "cosine_similarity", x1, x2);
            public static Tensor pairwise_distance(Tensor x1, Tensor x2, double p = 2, double eps = 1e-6, bool keepdim = false) =>
                R(Native.mn_distance(1, x1.Handle, x2.Handle, p, eps, keepdim ? 1 : 0, out var r), r, "pairwise_distance", x1, x2);
            /// <summary>p-norm distances between each row of x1 [.., P, M] and each row of x2 [.., R, M] → [.., P, R].</summary>
            public static Tensor cdist(Tensor x1, Tensor x2, double p = 2) =>
                R(Native.mn_distance(2, x1.Handle, x2.Handle, p, 0, 0, out var r), r, "cdist", x1, x2);

            public static Tensor one_hot(Tensor x, long numClasses = -1) => R(Native.mn_one_hot(x.Handle, numClasses, out var r), r, "one_hot", x);

            public enum InterpolationMode { Nearest = 0, Bilinear = 1, Area = 2 }

            /// <summary>Resizes [N, C, H, W] to (height, width).</summary>
            public static Tensor interpolate(Tensor x, long height, long width, InterpolationMode mode = InterpolationMode.Nearest, bool alignCorners = false) =>
                R(Native.mn_interpolate(x.Handle, (int)mode, height, width, 0, 0, alignCorners ? 1 : 0, out var r), r, "interpolate", x);
            /// <summary>Resizes [N, C, H, W] by a scale factor: size floor(H·s) × floor(W·s), sampled as PyTorch does with scale_factor.</summary>
            public static Tensor interpolate(Tensor x, double scaleFactor, InterpolationMode mode = InterpolationMode.Nearest, bool alignCorners = false) =>
                interpolate(x, (scaleFactor, scaleFactor), mode, alignCorners);
            public static Tensor interpolate(Tensor x, (double h, double w) scaleFactor, InterpolationMode mode = InterpolationMode.Nearest, bool alignCorners = false) =>
                R(Native.mn_interpolate(x.Handle, (int)mode, 0, 0, scaleFactor.h, scaleFactor.w, alignCorners ? 1 : 0, out var r), r, "interpolate", x);

            public enum PaddingMode { Constant = 0, Reflect = 1, Replicate = 2, Circular = 3 }

            /// <summary>Pads the last dims: pad = (left, right[, top, bottom]), as PyTorch's F.pad.</summary>
            public static unsafe Tensor pad(Tensor x, long[] pad, PaddingMode mode = PaddingMode.Constant, double value = 0)
            {
                fixed (long* p = pad) return R(Native.mn_pad(x.Handle, p, pad.Length, (int)mode, value, out var r), r, "pad", x);
            }

            public enum GridSampleMode { Bilinear = 0, Nearest = 1, Bicubic = 2 }
            public enum GridSamplePaddingMode { Zeros = 0, Border = 1, Reflection = 2 }

            /// <summary>
            /// The sampling grid of a batch of affine maps, as F.affine_grid: theta [N, 2, 3] and size [N, C, H, W] give
            /// [N, H, W, 2] (x, y) in normalised coordinates ([-1, 1] spans the image); 3-D: theta [N, 3, 4], size [N, C, D, H, W].
            /// </summary>
            public static unsafe Tensor affine_grid(Tensor theta, long[] size, bool alignCorners = false)
            {
                fixed (long* s = size) return R(Native.mn_affine_grid(theta.Handle, s, size.Length, alignCorners ? 1 : 0, out var r), r, "affine_grid", theta);
            }

            /// <summary>Samples input [N, C, H, W] at grid [N, H', W', 2] (normalised x, y), as F.grid_sample → [N, C, H', W'].</summary>
            public static Tensor grid_sample(Tensor input, Tensor grid, GridSampleMode mode = GridSampleMode.Bilinear,
                                             GridSamplePaddingMode paddingMode = GridSamplePaddingMode.Zeros, bool alignCorners = false) =>
                R(Native.mn_grid_sample(input.Handle, grid.Handle, (int)mode, (int)paddingMode, alignCorners ? 1 : 0, out var r), r, "grid_sample", input, grid);

            /// <summary>One LSTM step: (h', c') from input [B, I] and state (h, c) [B, H]; w_ih [4H, I], w_hh [4H, H].</summary>
            public static (Tensor h, Tensor c) lstm_cell(Tensor input, (Tensor h, Tensor c) state, Tensor wIh, Tensor wHh, Tensor? bIh = null, Tensor? bHh = null)
            {
                Native.Check(Native.mn_rnn_cell(0, input.Handle, state.h.Handle, state.c.Handle, wIh.Handle, wHh.Handle, H(bIh), H(bHh), out var h, out var c), "lstm_cell");
                GC.KeepAlive(input); GC.KeepAlive(state.h); GC.KeepAlive(state.c); GC.KeepAlive(wIh); GC.KeepAlive(wHh); GC.KeepAlive(bIh); GC.KeepAlive(bHh);
                return (new Tensor(h), new Tensor(c));
            }

            /// <summary>One GRU step: h' from input [B, I] and h [B, H]; w_ih [3H, I], w_hh [3H, H].</summary>
            public static Tensor gru_cell(Tensor input, Tensor h, Tensor wIh, Tensor wHh, Tensor? bIh = null, Tensor? bHh = null)
            {
                Native.Check(Native.mn_rnn_cell(1, input.Handle, h.Handle, IntPtr.Zero, wIh.Handle, wHh.Handle, H(bIh), H(bHh), out var hOut, out _), "gru_cell");
                GC.KeepAlive(input); GC.KeepAlive(h); GC.KeepAlive(wIh); GC.KeepAlive(wHh); GC.KeepAlive(bIh); GC.KeepAlive(bHh);
                return new Tensor(hOut);
            }
        }
    }
}

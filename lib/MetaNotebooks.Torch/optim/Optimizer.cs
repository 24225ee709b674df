namespace MetaNotebooks.Torch;

public static partial class torch
{
    /// <summary>torch.optim: optimisers updating parameters in place from their .grad, and LR schedules.</summary>
    public static partial class optim
    {
        public abstract class Optimizer : IDisposable
        {
            protected readonly IReadOnlyList<Tensor> Parameters;

            /// <summary>Learning rate; schedules change it between steps.</summary>
            public double LearningRate { get; set; }

            protected Optimizer(IEnumerable<Tensor> parameters, double lr)
            {
                if (!(lr >= 0)) throw new ArgumentOutOfRangeException(nameof(lr), lr, "learning rate must be ≥ 0");
                Parameters = parameters.ToList();
                LearningRate = lr;
            }

            /// <summary>Clears the parameters' .grad (set to none, PyTorch's default since 2.0).</summary>
            public void zero_grad()
            {
                foreach (var p in Parameters) p.grad = null;
            }

            /// <summary>Updates every parameter that has a gradient.</summary>
            public void step()
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                for (var i = 0; i < Parameters.Count; i++)
                {
                    var g = Parameters[i].grad;
                    if (g is null) continue;
                    Update(i, Parameters[i], g);
                }
            }

            /// <summary>One parameter's update; runs under no_grad inside a dispose scope (state must be detached from it).</summary>
            protected abstract void Update(int index, Tensor parameter, Tensor grad);

            /// <summary>Optimiser state by name, for checkpoints (see torch.save).</summary>
            public abstract Dictionary<string, Tensor> state_dict();

            public abstract void load_state_dict(IReadOnlyDictionary<string, Tensor> state);

            public virtual void Dispose() => GC.SuppressFinalize(this);

            protected static Tensor Keep(Tensor t) => t.DetachFromDisposeScope();
        }

        /// <summary>Stochastic gradient descent with momentum, dampening, Nesterov and weight decay, as torch.optim.SGD.</summary>
        public sealed class SGD : Optimizer
        {
            private readonly double dampening, weightDecay;
            private readonly bool nesterov;
            private readonly Tensor?[] buffers;

            /// <summary>Momentum; schedules may change it between steps (as param_groups[…]['momentum'] in PyTorch).</summary>
            public double Momentum { get; set; }

            public SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0, bool nesterov = false)
                : base(parameters, lr)
            {
                (Momentum, this.dampening, weightDecay, this.nesterov) = (momentum, dampening, weight_decay, nesterov);
                buffers = new Tensor?[Parameters.Count];
            }

            protected override void Update(int i, Tensor p, Tensor g)
            {
                var d = weightDecay != 0 ? g + weightDecay * p : g;
                var momentum = Momentum;
                if (momentum != 0)
                {
                    if (buffers[i] is null) buffers[i] = Keep(d.clone());
                    else buffers[i]!.mul_(momentum).add_(d, 1 - dampening);
                    d = nesterov ? d + momentum * buffers[i]! : buffers[i]!;
                }
                p.add_(d, -LearningRate);
            }

            public override Dictionary<string, Tensor> state_dict()
            {
                var s = new Dictionary<string, Tensor>();
                for (var i = 0; i < buffers.Length; i++)
                    if (buffers[i] is { } b) s[$"momentum_buffer.{i}"] = b;
                return s;
            }

            public override void load_state_dict(IReadOnlyDictionary<string, Tensor> state)
            {
                for (var i = 0; i < buffers.Length; i++)
                    if (state.TryGetValue($"momentum_buffer.{i}", out var b)) { buffers[i]?.Dispose(); buffers[i] = Keep(b.clone()); }
            }

            public override void Dispose()
            {
                foreach (var b in buffers) b?.Dispose();
                base.Dispose();
            }
        }

        /// <summary>Adam (Kingma and Ba) with L2 weight decay, as torch.optim.Adam.</summary>
        public sealed class Adam : Optimizer
        {
            private readonly double beta1, beta2, eps, weightDecay;
            private readonly Tensor?[] expAvg, expAvgSq;
            private readonly long[] steps;

            public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weight_decay = 0)
                : base(parameters, lr)
            {
                (this.beta1, this.beta2, this.eps, weightDecay) = (beta1, beta2, eps, weight_decay);
                expAvg = new Tensor?[Parameters.Count];
                expAvgSq = new Tensor?[Parameters.Count];
                steps = new long[Parameters.Count];
            }

            protected override void Update(int i, Tensor p, Tensor g)
            {
                if (weightDecay != 0) g = g + weightDecay * p;
                var m = expAvg[i] ??= Keep(zeros_like(p));
                var v = expAvgSq[i] ??= Keep(zeros_like(p));
                var t = ++steps[i];
                m.mul_(beta1).add_(g, 1 - beta1);
                v.mul_(beta2).addcmul_(g, g, 1 - beta2);
                var bc1 = 1 - Math.Pow(beta1, t);
                var bc2 = 1 - Math.Pow(beta2, t);
                var denom = (v.sqrt() / Math.Sqrt(bc2)).add_(eps);
                p.addcdiv_(m, denom, -LearningRate / bc1);
            }

            public override Dictionary<string, Tensor> state_dict()
            {
                var s = new Dictionary<string, Tensor>();
                for (var i = 0; i < Parameters.Count; i++)
                {
                    if (expAvg[i] is null) continue;
                    s[$"exp_avg.{i}"] = expAvg[i]!;
                    s[$"exp_avg_sq.{i}"] = expAvgSq[i]!;
                    s[$"step.{i}"] = tensor(new long[] { steps[i] }, []);
                }
                return s;
            }

            public override void load_state_dict(IReadOnlyDictionary<string, Tensor> state)
            {
                for (var i = 0; i < Parameters.Count; i++)
                {
                    if (!state.TryGetValue($"exp_avg.{i}", out var m)) continue;
                    expAvg[i]?.Dispose();
                    expAvgSq[i]?.Dispose();
                    expAvg[i] = Keep(m.clone());
                    expAvgSq[i] = Keep(state[$"exp_avg_sq.{i}"].clone());
                    steps[i] = state[$"step.{i}"].item<long>();
                }
            }

            public override void Dispose()
            {
                foreach (var t in expAvg.Concat(expAvgSq)) t?.Dispose();
                base.Dispose();
            }
        }

        public static partial class lr_scheduler
        {
            /// <summary>Multiplies the learning rate by gamma every stepSize calls of step() (torch's StepLR).</summary>
            public sealed class StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1)
            {
                private readonly double baseLr = optimizer.LearningRate;
                public int LastEpoch { get; private set; }

                public void step()
                {
                    LastEpoch++;
                    optimizer.LearningRate = baseLr * Math.Pow(gamma, LastEpoch / stepSize);
                }
            }
        }
    }

    public static partial class nn
    {
        public static class utils
        {
            /// <summary>Scales gradients so their joint L2 norm is at most maxNorm; returns the norm before clipping.</summary>
            public static double clip_grad_norm_(IEnumerable<Tensor> parameters, double maxNorm)
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                var grads = parameters.Select(p => p.grad).OfType<Tensor>().ToList();
                if (grads.Count == 0) return 0;
                var total = Math.Sqrt(grads.Sum(g => Math.Pow(g.norm().item<double>(), 2)));
                var coef = maxNorm / (total + 1e-6);
                if (coef < 1) foreach (var g in grads) g.mul_(coef);
                return total;
            }

            /// <summary>Clamps every gradient element to [−clipValue, clipValue].</summary>
            public static void clip_grad_value_(IEnumerable<Tensor> parameters, double clipValue)
            {
                using var scope = NewDisposeScope();
                foreach (var p in parameters) p.grad?.clamp_(-clipValue, clipValue);
            }
        }
    }
}

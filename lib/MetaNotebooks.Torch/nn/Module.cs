namespace MetaNotebooks.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>
        /// A layer or model with named parameters and buffers. Every module can be called functionally with an
        /// explicit parameter list (in <see cref="parameters"/> order), as torch.func.functional_call, which is what
        /// MAML's inner loop and MetaNet's fast weights need: <c>forward(x, fastWeights)</c>.
        /// </summary>
        public abstract class Module : IDisposable
        {
            private readonly List<(string name, Tensor tensor)> ownParameters = new();
            private readonly List<(string name, Tensor tensor)> ownBuffers = new();
            private readonly List<(string name, Module module)> children = new();

            public bool training { get; private set; } = true;

            /// <summary>Registers a parameter (requires_grad, kept out of dispose scopes: the module owns it).</summary>
            protected Tensor RegisterParameter(string name, Tensor value)
            {
                value.DetachFromDisposeScope();
                if (!value.requires_grad) value.requires_grad = true;
                ownParameters.Add((name, value));
                return value;
            }

            /// <summary>Registers a buffer: state that is saved but not trained (e.g. batch-norm running stats).</summary>
            protected Tensor RegisterBuffer(string name, Tensor value)
            {
                value.DetachFromDisposeScope();
                ownBuffers.Add((name, value));
                return value;
            }

            protected T RegisterModule<T>(string name, T module) where T : Module
            {
                children.Add((name, module));
                return module;
            }

            /// <summary>All parameters, this module's first, then each child's in registration order.</summary>
            public IEnumerable<(string name, Tensor parameter)> named_parameters()
            {
                foreach (var p in ownParameters) yield return p;
                foreach (var (cname, child) in children)
                    foreach (var (n, p) in child.named_parameters()) yield return ($"{cname}.{n}", p);
            }

            public IEnumerable<(string name, Tensor buffer)> named_buffers()
            {
                foreach (var b in ownBuffers) yield return b;
                foreach (var (cname, child) in children)
                    foreach (var (n, b) in child.named_buffers()) yield return ($"{cname}.{n}", b);
            }

            public IReadOnlyList<Tensor> parameters() => named_parameters().Select(p => p.parameter).ToList();

            /// <summary>Number of parameter tensors this module (with its children) consumes from a functional list.</summary>
            public int ParameterCount => ownParameters.Count + children.Sum(c => c.module.ParameterCount);

            /// <summary>Parameters and buffers by name, for torch.save.</summary>
            public Dictionary<string, Tensor> state_dict()
            {
                var d = new Dictionary<string, Tensor>();
                foreach (var (n, p) in named_parameters()) d[n] = p;
                foreach (var (n, b) in named_buffers()) d[n] = b;
                return d;
            }

            /// <summary>Copies values from a state dict into this module's parameters and buffers (names and shapes must match).</summary>
            public void load_state_dict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
            {
                var mine = state_dict();
                if (strict)
                {
                    var missing = mine.Keys.Except(state.Keys).ToList();
                    var unexpected = state.Keys.Except(mine.Keys).ToList();
                    if (missing.Count > 0 || unexpected.Count > 0)
                        throw new ArgumentException($"load_state_dict: missing keys [{string.Join(", ", missing)}], unexpected keys [{string.Join(", ", unexpected)}]");
                }
                using var _ = no_grad();
                foreach (var (name, target) in mine)
                {
                    if (!state.TryGetValue(name, out var src)) continue;
                    if (!src.Shape.SequenceEqual(target.Shape))
                        throw new ArgumentException($"load_state_dict: '{name}' has shape [{string.Join(", ", src.Shape)}] in the state dict but [{string.Join(", ", target.Shape)}] in the module");
                    target.copy_(src);
                }
            }

            public Module train(bool on = true)
            {
                training = on;
                foreach (var (_, c) in children) c.train(on);
                return this;
            }

            public Module eval() => train(false);

            /// <summary>Clears every parameter's .grad.</summary>
            public void zero_grad()
            {
                foreach (var p in parameters()) p.grad = null;
            }

            /// <summary>Forward with the module's own parameters.</summary>
            public Tensor forward(Tensor input) => forward(input, parameters());

            /// <summary>Forward with explicit parameters (same order and shapes as <see cref="parameters"/>).</summary>
            public Tensor forward(Tensor input, IReadOnlyList<Tensor> parameters)
            {
                if (parameters.Count != ParameterCount)
                    throw new ArgumentException($"{GetType().Name}.forward: expected {ParameterCount} parameter tensors, got {parameters.Count}");
                return Forward(input, parameters);
            }

            /// <summary>The computation, with this module's parameter tensors in registration order (own first, then children).</summary>
            protected abstract Tensor Forward(Tensor input, IReadOnlyList<Tensor> parameters);

            public Tensor call(Tensor input) => forward(input);

            public virtual void Dispose()
            {
                foreach (var (_, p) in ownParameters) p.Dispose();
                foreach (var (_, b) in ownBuffers) b.Dispose();
                foreach (var (_, c) in children) c.Dispose();
                GC.SuppressFinalize(this);
            }

            /// <summary>The slice of `parameters` that child number `index` consumes.</summary>
            protected IReadOnlyList<Tensor> ChildParameters(IReadOnlyList<Tensor> parameters, int index)
            {
                var start = ownParameters.Count;
                for (var i = 0; i < index; i++) start += children[i].module.ParameterCount;
                var count = children[index].module.ParameterCount;
                return new ArraySegment<Tensor>(parameters as Tensor[] ?? parameters.ToArray(), start, count);
            }

            protected IReadOnlyList<Module> Children => children.Select(c => c.module).ToList();
        }
    }
}

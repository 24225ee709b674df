namespace MetaNotebooks.Torch;

public static partial class torch
{
    public static class autograd
    {
        /// <summary>
        /// Gradients of `outputs` with respect to `inputs` (torch.autograd.grad). createGraph keeps the graph of the
        /// gradients, for higher-order derivatives (second-order MAML). With allowUnused, an input the outputs do not
        /// depend on gets a zero gradient (as PyTorch's materialize_grads=True).
        /// </summary>
        public static unsafe Tensor[] grad(IReadOnlyList<Tensor> outputs, IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?>? gradOutputs = null,
                                           bool? retainGraph = null, bool createGraph = false, bool allowUnused = false)
        {
            if (gradOutputs != null && gradOutputs.Count != outputs.Count)
                throw new TorchException("autograd.grad", $"{outputs.Count} outputs but {gradOutputs.Count} gradOutputs");
            var outs = outputs.Select(t => t.Handle).ToArray();
            var ins = inputs.Select(t => t.Handle).ToArray();
            var gos = gradOutputs?.Select(t => t?.Handle ?? IntPtr.Zero).ToArray();
            var results = new IntPtr[ins.Length];
            var retain = retainGraph is null ? -1 : retainGraph.Value ? 1 : 0;
            fixed (IntPtr* o = outs)
            fixed (IntPtr* i = ins)
            fixed (IntPtr* g = gos)
            fixed (IntPtr* r = results)
                Native.Check(Native.mn_autograd_grad(o, outs.Length, i, ins.Length, gos == null ? null : g, retain, createGraph ? 1 : 0, allowUnused ? 1 : 0, r), "autograd.grad");
            GC.KeepAlive(outputs);
            GC.KeepAlive(inputs);
            GC.KeepAlive(gradOutputs);
            var grads = new Tensor[results.Length];
            for (var k = 0; k < results.Length; k++)
                grads[k] = results[k] != IntPtr.Zero ? new Tensor(results[k]) : zeros_like(inputs[k]);
            return grads;
        }

        public static Tensor[] grad(Tensor output, IReadOnlyList<Tensor> inputs, bool? retainGraph = null, bool createGraph = false, bool allowUnused = false) =>
            grad([output], inputs, null, retainGraph, createGraph, allowUnused);
    }
}

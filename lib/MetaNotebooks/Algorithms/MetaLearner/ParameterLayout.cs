using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.MetaLearner;

/// <summary>A run of consecutive coordinates of the flat parameter vector that belong to one layer of the learner.</summary>
public sealed record ParameterGroup(string Name, long Start, long Length);

/// <summary>
/// How a learner's parameter tensors lie in one flat vector, the meta-learner's cell state: tensor k occupies
/// Offsets[k] … Offsets[k] + Sizes[k] − 1, in the learner's parameter order. <see cref="Layers"/> groups the coordinates
/// by layer for the gate plots: "conv1.*" and "bn1.*" are layer 1, "head.*" is the head (tensors named alike are
/// consecutive in every model of this library).
/// </summary>
public sealed class ParameterLayout
{
    public IReadOnlyList<long[]> Shapes { get; }
    public IReadOnlyList<long> Sizes { get; }
    public IReadOnlyList<long> Offsets { get; }
    /// <summary>P: the number of coordinates.</summary>
    public long Count { get; }
    public IReadOnlyList<ParameterGroup> Layers { get; }

    public ParameterLayout(nn.Module learner)
    {
        var named = learner.named_parameters().ToList();
        if (named.Count == 0) throw new ArgumentException($"{learner.GetType().Name} has no parameters for a meta-learner to train.", nameof(learner));
        Shapes = named.Select(n => n.parameter.shape).ToArray();
        Sizes = Shapes.Select(s => s.Aggregate(1L, (a, b) => a * b)).ToArray();
        var offsets = new long[Sizes.Count];
        for (var k = 1; k < offsets.Length; k++) offsets[k] = offsets[k - 1] + Sizes[k - 1];
        Offsets = offsets;
        Count = offsets[^1] + Sizes[^1];
        var layers = new List<ParameterGroup>();
        for (var k = 0; k < named.Count; k++)
        {
            var name = LayerOf(named[k].name);
            if (layers.Count > 0 && layers[^1].Name == name) layers[^1] = layers[^1] with { Length = layers[^1].Length + Sizes[k] };
            else if (layers.Any(l => l.Name == name)) throw new ArgumentException($"{learner.GetType().Name}: the parameters of {name} are not consecutive ({named[k].name}).", nameof(learner));
            else layers.Add(new ParameterGroup(name, offsets[k], Sizes[k]));
        }
        Layers = layers;
    }

    /// <summary>"conv2.weight", "bn2.bias" → "layer 2"; "head.weight" → "head".</summary>
    private static string LayerOf(string parameterName)
    {
        var module = parameterName.Split('.')[0];
        var digits = new string(module.Reverse().TakeWhile(char.IsDigit).Reverse().ToArray());
        return digits.Length > 0 ? $"layer {digits}" : module;
    }

    /// <summary>The tensors (in the learner's order and shapes) as one vector [P].</summary>
    public Tensor Flatten(IReadOnlyList<Tensor> parameters)
    {
        Check(parameters);
        using var scope = NewDisposeScope();
        return cat(parameters.Select(p => p.reshape(-1)).ToArray(), 0).MoveToOuterDisposeScope();
    }

    /// <summary>The vector [P] as the learner's parameter list: views of it, so gradients flow back to the vector.</summary>
    public IReadOnlyList<Tensor> Unflatten(Tensor flat)
    {
        if (flat.dim() != 1 || flat.size(0) != Count) throw new ArgumentException($"ParameterLayout: expected a vector of {Count} coordinates, got [{string.Join(", ", flat.shape)}].", nameof(flat));
        return Shapes.Select((shape, k) => flat.narrow(0, Offsets[k], Sizes[k]).view(shape)).ToArray();
    }

    private void Check(IReadOnlyList<Tensor> parameters)
    {
        if (parameters.Count != Shapes.Count || parameters.Where((p, k) => !p.shape.SequenceEqual(Shapes[k])).Any())
            throw new ArgumentException($"ParameterLayout: expected {Shapes.Count} tensors of shapes {string.Join(", ", Shapes.Select(s => $"[{string.Join(", ", s)}]"))}.", nameof(parameters));
    }
}

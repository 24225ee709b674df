using MetaNotebooks.Models;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.Baselines;

/// <summary>
/// Ravi &amp; Larochelle's baseline network: one ordinary classifier over all the meta-training classes jointly, a
/// convolutional body (<see cref="ConvEncoder"/>: 4 × [3×3 conv, batch norm, ReLU, 2×2 max-pool]) and a linear head
/// on its flattened features. Its body is what both baselines reuse: its features for nearest neighbour, its
/// weights as the starting point of fine-tuning.
/// </summary>
public sealed class PretrainedClassifier : nn.Module
{
    /// <param name="classes">The head's outputs: the training classes (64 on Mini-ImageNet).</param>
    /// <param name="featureCount">The body's flattened output for the image size (84×84, 32 filters: 32·5·5 = 800).</param>
    public PretrainedClassifier(ConvEncoder body, long featureCount, int classes, Generator? generator = null)
    {
        Body = RegisterModule("body", body);
        Head = RegisterModule("head", new nn.Linear(featureCount, classes, generator: generator));
        Classes = classes;
    }

    public ConvEncoder Body { get; }
    public nn.Linear Head { get; }
    public int Classes { get; }

    protected override Tensor Forward(Tensor x, IReadOnlyList<Tensor> p)
    {
        using var z = Body.forward(x, ChildParameters(p, 0));
        return Head.forward(z, ChildParameters(p, 1));
    }
}

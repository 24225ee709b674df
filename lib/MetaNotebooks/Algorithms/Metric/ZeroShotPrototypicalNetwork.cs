using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.Metric;

/// <summary>
/// Prototypical networks for zero-shot learning (Snell, Swersky, Zemel 2017, §2.3): a class comes with a metadata
/// vector vₖ (attributes) instead of examples, and its prototype is the embedding of that vector by a second encoder,
/// cₖ = g_ϑ(vₖ). Because metadata and images live in different domains, g's output is fixed to unit length (as the paper
/// does); the image embedding f_φ(x) is unconstrained. Classification and loss are those of the few-shot network: a
/// softmax over −‖f_φ(x) − cₖ‖² (<see cref="PrototypicalNetwork.NegativeSquaredDistances"/>), the negative
/// log-probability of the true class averaged over the queries. f and g are trained together on episodes of seen
/// classes; at test the prototypes of never-seen classes come from their attributes alone.
/// </summary>
public sealed class ZeroShotPrototypicalNetwork : nn.Module
{
    /// <summary>f_φ: images [n, C, H, W] → [n, D].</summary>
    public nn.Module ImageEncoder { get; }
    /// <summary>g_ϑ: attribute vectors [k, A] → [k, D] (normalised to unit length by <see cref="Prototypes"/>).</summary>
    public nn.Module AttributeEncoder { get; }

    public ZeroShotPrototypicalNetwork(nn.Module imageEncoder, nn.Module attributeEncoder)
    {
        ImageEncoder = RegisterModule("image_encoder", imageEncoder);
        AttributeEncoder = RegisterModule("attribute_encoder", attributeEncoder);
    }

    public string Name => "Zero-shot Prototypical Nets";

    protected override Tensor Forward(Tensor input, IReadOnlyList<Tensor> parameters) =>
        throw new NotSupportedException("Call Scores or Loss.");

    /// <summary>cₖ = g_ϑ(vₖ) / ‖g_ϑ(vₖ)‖ for attributes [..., A] → [..., D].</summary>
    public Tensor Prototypes(Tensor attributes)
    {
        using var scope = NewDisposeScope();
        var lead = attributes.shape[..^1];
        var c = AttributeEncoder.forward(attributes.reshape(-1, attributes.size(-1)));
        c = c / c.norm(1L, keepdim: true).clamp_min(1e-12);   // as torch.nn.functional.normalize
        return c.reshape([.. lead, c.size(1)]).MoveToOuterDisposeScope();
    }

    /// <summary>f_φ(x) for images with leading dimensions [..., C, H, W] → [..., D].</summary>
    public Tensor EmbedImages(Tensor images)
    {
        using var scope = NewDisposeScope();
        var lead = images.shape[..^3];
        var z = ImageEncoder.forward(images.reshape([-1, .. images.shape[^3..]]));
        return z.reshape([.. lead, z.size(1)]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// −‖f_φ(x) − cₖ‖² for the queries of each task and the classes of that task: queries [T, M, C, H, W], class
    /// attributes [T, N, A] → [T, M, N]. Label i of a task is the class whose attributes are row i.
    /// </summary>
    public Tensor Scores(Tensor queries, Tensor classAttributes)
    {
        using var scope = NewDisposeScope();
        return PrototypicalNetwork.NegativeSquaredDistances(EmbedImages(queries), Prototypes(classAttributes)).MoveToOuterDisposeScope();
    }

    /// <summary>The episode loss: cross-entropy of the softmax over <see cref="Scores"/>, averaged over every query of every task.</summary>
    public Tensor Loss(Tensor queries, Tensor targets, Tensor classAttributes)
    {
        using var scope = NewDisposeScope();
        var logits = Scores(queries, classAttributes);
        return nn.functional.cross_entropy(logits.reshape(-1, logits.size(2)), targets.reshape(-1)).MoveToOuterDisposeScope();
    }
}

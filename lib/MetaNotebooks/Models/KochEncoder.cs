using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Models;

/// <summary>
/// One twin of Koch, Zemel &amp; Salakhutdinov's (2015) convolutional Siamese network, the best model of their
/// verification experiments (their Figure 4), for 105×105 Omniglot drawings:
/// <code>
/// [n, 1, 105, 105] → conv 64@10×10, ReLU → [64, 96, 96]  → max-pool 2 → [64, 48, 48]
///                  → conv 128@7×7, ReLU → [128, 42, 42] → max-pool 2 → [128, 21, 21]
///                  → conv 128@4×4, ReLU → [128, 18, 18] → max-pool 2 → [128, 9, 9]
///                  → conv 256@4×4, ReLU → [256, 6, 6]   → flatten 9,216 → FC 4,096, sigmoid = h
/// </code>
/// Convolutions are "valid" with stride 1; pooling is 2×2 with stride 2. The head that joins the twins,
/// p = σ(Σⱼ αⱼ |h₁ⱼ − h₂ⱼ|), is <see cref="Algorithms.Metric.SiameseNetwork"/>'s.
/// <para>
/// Initialisation, as the paper states it (standard deviations): convolution weights N(0, 10⁻²), every bias
/// N(0.5, 10⁻²), fully connected weights N(0, 2·10⁻¹). With these the FC layer's inputs are about 0.5 and its
/// pre-activations have a standard deviation of about 10, so most of the 4,096 sigmoid units start saturated.
/// </para>
/// 38,947,648 parameters (the FC layer holds 37.75 million of them).
/// </summary>
public sealed class KochEncoder : nn.Module
{
    public const int InputSize = 105;
    public const int FlatSize = 256 * 6 * 6;
    public const int EmbeddingSize = 4096;
    public const double ConvWeightStd = 1e-2, BiasMean = 0.5, BiasStd = 1e-2, FcWeightStd = 2e-1;

    /// <summary>(filters, kernel) of the four convolutions; all but the last are followed by 2×2 max-pooling.</summary>
    public static readonly (int Filters, int Kernel)[] Convolutions = [(64, 10), (128, 7), (128, 4), (256, 4)];

    public KochEncoder(Generator? generator = null)
    {
        long c = 1;
        for (var i = 0; i < Convolutions.Length; i++)
        {
            var conv = RegisterModule($"conv{i + 1}", new nn.Conv2d(c, Convolutions[i].Filters, Convolutions[i].Kernel, generator: generator));
            nn.init.normal_(conv.weight, 0, ConvWeightStd, generator);
            nn.init.normal_(conv.bias!, BiasMean, BiasStd, generator);
            c = Convolutions[i].Filters;
        }
        var fc = RegisterModule("fc", new nn.Linear(FlatSize, EmbeddingSize, generator: generator));
        nn.init.normal_(fc.weight, 0, FcWeightStd, generator);
        nn.init.normal_(fc.bias!, BiasMean, BiasStd, generator);
    }

    /// <summary>The feature maps after each convolution block (after pooling where there is one), for shapes and figures.</summary>
    public IReadOnlyList<Tensor> FeatureMaps(Tensor x)
    {
        var maps = new List<Tensor>();
        var children = Children;
        var h = x;
        for (var i = 0; i < Convolutions.Length; i++)
        {
            using var conv = children[i].forward(h);
            var relu = conv.relu();
            maps.Add(relu);
            h = i < Convolutions.Length - 1 ? nn.functional.max_pool2d(relu, 2) : relu;
            if (!ReferenceEquals(h, relu)) maps.Add(h);
        }
        return maps;
    }

    protected override Tensor Forward(Tensor x, IReadOnlyList<Tensor> p)
    {
        if (x.dim() != 4 || x.size(1) != 1 || x.size(2) != InputSize || x.size(3) != InputSize)
            throw new ArgumentException($"KochEncoder takes [n, 1, {InputSize}, {InputSize}] drawings, got [{string.Join(", ", x.shape)}]");
        using var scope = NewDisposeScope();
        var h = x;
        for (var i = 0; i < Convolutions.Length; i++)
        {
            h = nn.functional.conv2d(h, p[2 * i], p[2 * i + 1]).relu_();
            if (i < Convolutions.Length - 1) h = nn.functional.max_pool2d(h, 2);
        }
        var fc = Convolutions.Length * 2;
        return nn.functional.linear(h.flatten(1), p[fc], p[fc + 1]).sigmoid().MoveToOuterDisposeScope();
    }
}

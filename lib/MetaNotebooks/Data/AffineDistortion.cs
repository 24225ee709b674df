using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Data;

/// <summary>
/// Koch et al.'s (2015) affine distortions of training drawings: for each image a random T = (θ, ρx, ρy, sx, sy, tx, ty)
/// with θ ∈ [−10°, 10°], shears ρx, ρy ∈ [−0.3, 0.3], scales sx, sy ∈ [0.8, 1.2], translations tx, ty ∈ [−2, 2] pixels,
/// each component drawn uniformly and "included with probability 0.5" (otherwise left at the identity).
/// <para>
/// The map, in pixels about the image centre: x' = A x + t with A = R(θ) · [[1, ρx], [ρy, 1]] · diag(sx, sy). The
/// distorted image samples the original at A⁻¹(x' − t), bilinearly, with zero (background) outside: libtorch's
/// affine_grid and grid_sample, with the inverse map written in normalised coordinates (align_corners = false, so
/// the identity samples every pixel at its centre and returns the image unchanged).
/// </para>
/// </summary>
public sealed record AffineDistortion
{
    public double MaxRotationDegrees { get; init; } = 10;
    public double MaxShear { get; init; } = 0.3;
    public double MinScale { get; init; } = 0.8;
    public double MaxScale { get; init; } = 1.2;
    public double MaxTranslation { get; init; } = 2;
    /// <summary>Probability that each of the seven components is drawn rather than left at the identity.</summary>
    public double Probability { get; init; } = 0.5;

    /// <summary>The paper's ranges.</summary>
    public static AffineDistortion Koch { get; } = new();

    /// <summary>One image's transform: rotation in degrees, shears, scales, translations in pixels.</summary>
    public sealed record Transform(double Rotation, double ShearX, double ShearY, double ScaleX, double ScaleY, double TranslateX, double TranslateY)
    {
        public static Transform Identity { get; } = new(0, 0, 0, 1, 1, 0, 0);

        /// <summary>A = R(θ) · shear · scale (pixels, y down), row-major [a11, a12, a21, a22].</summary>
        public double[] Matrix()
        {
            var r = Rotation * Math.PI / 180;
            double c = Math.Cos(r), s = Math.Sin(r);
            // shear · scale = [[sx, ρx·sy], [ρy·sx, sy]]
            double m11 = ScaleX, m12 = ShearX * ScaleY, m21 = ShearY * ScaleX, m22 = ScaleY;
            return [c * m11 - s * m21, c * m12 - s * m22, s * m11 + c * m21, s * m12 + c * m22];
        }
    }

    public void Validate()
    {
        if (!(MaxRotationDegrees >= 0 && MaxShear >= 0 && MaxTranslation >= 0))
            throw new ArgumentException($"distortion ranges must be ≥ 0: rotation {MaxRotationDegrees}, shear {MaxShear}, translation {MaxTranslation}");
        if (!(MinScale > 0 && MaxScale >= MinScale)) throw new ArgumentException($"need 0 < min scale ≤ max scale, got {MinScale}, {MaxScale}");
        if (MaxShear >= 1) throw new ArgumentException($"shears of magnitude ≥ 1 can make the map singular; got {MaxShear}");
        if (!(Probability is >= 0 and <= 1)) throw new ArgumentException($"probability must be in [0, 1], got {Probability}");
    }

    /// <summary>n random transforms (14 uniform doubles each from `generator`: whether, then what, per component).</summary>
    public Transform[] Sample(int n, Generator generator)
    {
        Validate();
        double[] u;
        using (var r = rand([n * 14L], generator, ScalarType.Float64)) u = r.ToArray<double>();
        var result = new Transform[n];
        for (var i = 0; i < n; i++)
        {
            var k = i * 14;
            double Pick(double identity, double lo, double hi)
            {
                var on = u[k++] < Probability;
                var v = lo + (hi - lo) * u[k++];
                return on ? v : identity;
            }
            result[i] = new Transform(
                Pick(0, -MaxRotationDegrees, MaxRotationDegrees),
                Pick(0, -MaxShear, MaxShear), Pick(0, -MaxShear, MaxShear),
                Pick(1, MinScale, MaxScale), Pick(1, MinScale, MaxScale),
                Pick(0, -MaxTranslation, MaxTranslation), Pick(0, -MaxTranslation, MaxTranslation));
        }
        return result;
    }

    /// <summary>Distorts images [n, C, H, W] (float, background 0) with fresh random transforms.</summary>
    public Tensor Apply(Tensor images, Generator generator) => Apply(images, Sample((int)images.size(0), generator));

    /// <summary>
    /// The affine_grid matrices [n, 2, 3] (float32) of the transforms for H×W images: where, in normalised
    /// coordinates, each output pixel samples the input. With S = diag(W/2, H/2), θ = [S⁻¹A⁻¹S | −S⁻¹A⁻¹t/…].
    /// </summary>
    public static Tensor Theta(IReadOnlyList<Transform> transforms, long height, long width)
    {
        var theta = new float[transforms.Count * 6];
        double sx = width / 2.0, sy = height / 2.0;
        for (var i = 0; i < transforms.Count; i++)
        {
            var t = transforms[i];
            var a = t.Matrix();
            var det = a[0] * a[3] - a[1] * a[2];
            if (!(Math.Abs(det) > 1e-9)) throw new ArgumentException($"transform {i} is singular: {t}");
            // A⁻¹ in pixels, then conjugated by S into normalised coordinates.
            double i11 = a[3] / det, i12 = -a[1] / det, i21 = -a[2] / det, i22 = a[0] / det;
            double n11 = i11, n12 = i12 * sy / sx, n21 = i21 * sx / sy, n22 = i22;
            double bx = -(i11 * t.TranslateX + i12 * t.TranslateY) / sx, by = -(i21 * t.TranslateX + i22 * t.TranslateY) / sy;
            theta[i * 6 + 0] = (float)n11; theta[i * 6 + 1] = (float)n12; theta[i * 6 + 2] = (float)bx;
            theta[i * 6 + 3] = (float)n21; theta[i * 6 + 4] = (float)n22; theta[i * 6 + 5] = (float)by;
        }
        return tensor(theta, [transforms.Count, 2, 3]);
    }

    /// <summary>Distorts images [n, C, H, W] (float, background 0) with the given transforms, one per image.</summary>
    public static Tensor Apply(Tensor images, IReadOnlyList<Transform> transforms)
    {
        if (images.dim() != 4) throw new ArgumentException($"AffineDistortion takes images [n, C, H, W], got [{string.Join(", ", images.shape)}]");
        if (transforms.Count != images.size(0)) throw new ArgumentException($"{transforms.Count} transforms for {images.size(0)} images");
        using var scope = NewDisposeScope();
        var theta = Theta(transforms, images.size(2), images.size(3)).to(images.dtype);
        var grid = nn.functional.affine_grid(theta, images.shape);
        return nn.functional.grid_sample(images, grid).MoveToOuterDisposeScope();
    }
}

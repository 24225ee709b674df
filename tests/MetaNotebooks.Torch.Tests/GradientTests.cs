using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Torch.Tests;

/// <summary>
/// gradcheck + gradgradcheck (float64, central differences) of every differentiable op of the API, one
/// [Theory] per op family, one case per op/variant. See <see cref="GradCheck"/>.
/// </summary>
public class GradientTests
{
    /// <summary>A case: how to draw its inputs, the function, and whether its second derivative is checked.</summary>
    public sealed record Case(Func<Generator, Tensor[]> Inputs, Func<Tensor[], Tensor> F, bool SecondOrder = true);

    private const ScalarType F64 = ScalarType.Float64;

    // ---- input makers (seeded, float64) ----
    private static Tensor N(Generator g, params long[] shape) => randn(shape, g, F64);
    /// <summary>Uniform on [0.5, 2): strictly positive, for log, sqrt, reciprocal, pow.</summary>
    private static Tensor Pos(Generator g, params long[] shape) => rand(shape, g, F64) * 1.5 + 0.5;
    /// <summary>Magnitudes in [0.3, 1.3) with random signs: away from the kinks at 0.</summary>
    private static Tensor Away(Generator g, params long[] shape) =>
        (rand(shape, g, F64) + 0.3) * (rand(shape, g, F64) > 0.5).to(F64).mul(2).sub(1);
    /// <summary>Uniform on (0.1, 0.9): probabilities.</summary>
    private static Tensor Prob(Generator g, params long[] shape) => rand(shape, g, F64) * 0.8 + 0.1;

    private static Func<Generator, Tensor[]> In(params Func<Generator, Tensor>[] makers) => g => makers.Select(m => m(g)).ToArray();

    private static void Run(Dictionary<string, Case> cases, string name)
    {
        using var scope = NewDisposeScope();
        var c = cases[name];
        using var gen = new Generator(20240601);
        var inputs = c.Inputs(gen);
        GradCheck.Assert(name, c.F, inputs, c.SecondOrder);
    }

    private static TheoryData<string> Names(Dictionary<string, Case> cases)
    {
        var d = new TheoryData<string>();
        foreach (var k in cases.Keys) d.Add(k);
        return d;
    }

    // ================= unary math =================
    public static readonly Dictionary<string, Case> UnaryCases = new()
    {
        ["neg"] = new(In(g => N(g, 3, 4)), x => x[0].neg()),
        ["operator-"] = new(In(g => N(g, 3, 4)), x => -x[0]),
        ["exp"] = new(In(g => N(g, 3, 4)), x => x[0].exp()),
        ["log"] = new(In(g => Pos(g, 3, 4)), x => x[0].log()),
        ["log2"] = new(In(g => Pos(g, 3, 4)), x => x[0].log2()),
        ["log1p"] = new(In(g => Pos(g, 3, 4)), x => x[0].log1p()),
        ["expm1"] = new(In(g => N(g, 3, 4)), x => x[0].expm1()),
        ["sin"] = new(In(g => N(g, 3, 4)), x => x[0].sin()),
        ["cos"] = new(In(g => N(g, 3, 4)), x => x[0].cos()),
        ["tanh"] = new(In(g => N(g, 3, 4)), x => x[0].tanh()),
        ["sigmoid"] = new(In(g => N(g, 3, 4)), x => x[0].sigmoid()),
        ["relu"] = new(In(g => Away(g, 3, 4)), x => x[0].relu()),
        ["silu"] = new(In(g => N(g, 3, 4)), x => x[0].silu()),
        ["abs"] = new(In(g => Away(g, 3, 4)), x => x[0].abs()),
        ["sqrt"] = new(In(g => Pos(g, 3, 4)), x => x[0].sqrt()),
        ["rsqrt"] = new(In(g => Pos(g, 3, 4)), x => x[0].rsqrt()),
        ["square"] = new(In(g => N(g, 3, 4)), x => x[0].square()),
        ["reciprocal"] = new(In(g => Away(g, 3, 4)), x => x[0].reciprocal()),
        ["erf"] = new(In(g => N(g, 3, 4)), x => x[0].erf()),
        ["erfinv"] = new(In(g => Prob(g, 3, 4) * 2 - 1), x => x[0].erfinv()),
        ["sign"] = new(In(g => Away(g, 3, 4)), x => x[0].sign() * x[0]),
        ["floor"] = new(In(g => N(g, 3, 4)), x => x[0].floor() + x[0] * 0.5),
        ["ceil"] = new(In(g => N(g, 3, 4)), x => x[0].ceil() + x[0] * 0.5),
        ["round"] = new(In(g => N(g, 3, 4)), x => x[0].round() + x[0] * 0.5),
        ["trunc"] = new(In(g => N(g, 3, 4)), x => x[0].trunc() + x[0] * 0.5),
        ["clamp(min,max)"] = new(In(g => N(g, 3, 4)), x => x[0].clamp(-0.5, 0.5)),
        ["clamp_min"] = new(In(g => N(g, 3, 4)), x => x[0].clamp_min(0.1)),
        ["clamp_max"] = new(In(g => N(g, 3, 4)), x => x[0].clamp_max(-0.1)),
        ["torch.clamp"] = new(In(g => N(g, 3, 4)), x => clamp(x[0], max: 0.3)),
        ["pow(3)"] = new(In(g => N(g, 3, 4)), x => x[0].pow(3)),
        ["pow(2.5)"] = new(In(g => Pos(g, 3, 4)), x => x[0].pow(2.5)),
        ["pow(-1.5)"] = new(In(g => Pos(g, 3, 4)), x => x[0].pow(-1.5)),
        ["t"] = new(In(g => N(g, 3, 4)), x => x[0].t()),
        ["clone"] = new(In(g => N(g, 3, 4)), x => x[0].clone()),
        ["contiguous"] = new(In(g => N(g, 3, 4)), x => x[0].t().contiguous()),
        ["torch.exp/log/sin/cos/tanh/sigmoid/sqrt/abs"] = new(In(g => Pos(g, 2, 3)),
            x => torch.exp(x[0]) + torch.log(x[0]) + torch.sin(x[0]) * torch.cos(x[0]) + torch.tanh(x[0]) + torch.sigmoid(x[0]) + torch.sqrt(x[0]) + torch.abs(x[0]) + torch.relu(x[0]) + torch.pow(x[0], 2)),
    };
    public static TheoryData<string> UnaryNames => Names(UnaryCases);
    [Theory, MemberData(nameof(UnaryNames))]
    public void Unary(string name) => Run(UnaryCases, name);

    // ================= binary and scalar arithmetic, broadcasting =================
    public static readonly Dictionary<string, Case> BinaryCases = new()
    {
        ["a+b"] = new(In(g => N(g, 2, 3), g => N(g, 2, 3)), x => x[0] + x[1]),
        ["a+b broadcast [2,3]+[3]"] = new(In(g => N(g, 2, 3), g => N(g, 3)), x => x[0] + x[1]),
        ["a-b broadcast [2,1]-[1,3]"] = new(In(g => N(g, 2, 1), g => N(g, 1, 3)), x => x[0] - x[1]),
        ["a*b broadcast [4,1,3]*[2,1]"] = new(In(g => N(g, 4, 1, 3), g => N(g, 2, 1)), x => x[0] * x[1]),
        ["a*b 0-d"] = new(In(g => N(g, 2, 3), g => N(g)), x => x[0] * x[1]),
        ["a/b broadcast"] = new(In(g => N(g, 2, 3), g => Away(g, 3)), x => x[0] / x[1]),
        ["a.pow(b)"] = new(In(g => Pos(g, 2, 3), g => N(g, 2, 3)), x => x[0].pow(x[1])),
        ["maximum"] = new(In(g => N(g, 2, 3), g => N(g, 2, 3)), x => x[0].maximum(x[1])),
        ["minimum broadcast"] = new(In(g => N(g, 2, 3), g => N(g, 3)), x => torch.minimum(x[0], x[1])),
        ["atan2"] = new(In(g => N(g, 2, 3), g => Away(g, 2, 3)), x => x[0].atan2(x[1])),
        ["a%b"] = new(In(g => Pos(g, 2, 3), g => Pos(g, 2, 3)), x => x[0] % (x[1] * 0.37)),
        ["add/sub/mul/div methods"] = new(In(g => N(g, 2, 3), g => Away(g, 2, 3)), x => x[0].add(x[1]).mul(x[1]).sub(x[0]).div(x[1])),
        ["x+2.5, 2.5+x"] = new(In(g => N(g, 2, 3)), x => (x[0] + 2.5) * (2.5 + x[0])),
        ["x-1.5, 1.5-x"] = new(In(g => N(g, 2, 3)), x => (x[0] - 1.5) * (1.5 - x[0])),
        ["x*3, 3*x"] = new(In(g => N(g, 2, 3)), x => (x[0] * 3) * (3 * x[0])),
        ["x/4, 4/x"] = new(In(g => Away(g, 2, 3)), x => (x[0] / 4) + (4 / x[0])),
        ["x*2 (integer scalar)"] = new(In(g => N(g, 2, 3)), x => x[0] * 2 + 1 - (3 - x[0]) / 2),
        ["x%0.7"] = new(In(g => Pos(g, 2, 3)), x => x[0] % 0.7),
        ["where"] = new(In(g => N(g, 2, 3), g => N(g, 2, 3)), x =>
        {
            using var cond = tensor(new[] { true, false, true, false, false, true }, [2, 3]);
            return where(cond, x[0], x[1]);
        }),
        ["where with a scalar"] = new(In(g => N(g, 2, 3)), x => where(x[0].detach() > 0, x[0], 0.5) * where(x[0].detach() < 0.3, -2.0, x[0])),
        ["where broadcast"] = new(In(g => N(g, 2, 3), g => N(g, 3)), x => where(x[0].detach() > 0, x[0], x[1])),
    };
    public static TheoryData<string> BinaryNames => Names(BinaryCases);
    [Theory, MemberData(nameof(BinaryNames))]
    public void Binary(string name) => Run(BinaryCases, name);

    // ================= reductions =================
    public static readonly Dictionary<string, Case> ReductionCases = new()
    {
        ["sum()"] = new(In(g => N(g, 3, 4)), x => x[0].sum()),
        ["sum(dim)"] = new(In(g => N(g, 3, 4)), x => x[0].sum(1)),
        ["sum(dims, keepdim)"] = new(In(g => N(g, 2, 3, 4)), x => x[0].sum([0, 2], keepdim: true)),
        ["mean()"] = new(In(g => N(g, 3, 4)), x => x[0].mean()),
        ["mean(dim, keepdim)"] = new(In(g => N(g, 3, 4)), x => x[0].mean(-1, keepdim: true)),
        ["mean(dims)"] = new(In(g => N(g, 2, 3, 4)), x => x[0].mean([1, 2])),
        ["std()"] = new(In(g => N(g, 3, 4)), x => x[0].std()),
        ["std(dim)"] = new(In(g => N(g, 3, 4)), x => x[0].std(1)),
        ["std(dim, biased, keepdim)"] = new(In(g => N(g, 3, 4)), x => x[0].std(0, unbiased: false, keepdim: true)),
        ["std(dims)"] = new(In(g => N(g, 2, 3, 4)), x => x[0].std([0, 2])),
        ["var()"] = new(In(g => N(g, 3, 4)), x => x[0].var()),
        ["var(dim)"] = new(In(g => N(g, 3, 4)), x => x[0].var(1, unbiased: false)),
        ["var(dims, keepdim)"] = new(In(g => N(g, 2, 3, 4)), x => x[0].var([1, 2], keepdim: true)),
        ["logsumexp(dim)"] = new(In(g => N(g, 3, 4)), x => x[0].logsumexp(1)),
        ["logsumexp(dim, keepdim)"] = new(In(g => N(g, 3, 4)), x => x[0].logsumexp(0, keepdim: true)),
        ["logsumexp(dims)"] = new(In(g => N(g, 2, 3, 4)), x => x[0].logsumexp([0, 2])),
        ["norm()"] = new(In(g => N(g, 3, 4)), x => x[0].norm()),
        ["norm(p=3)"] = new(In(g => N(g, 3, 4)), x => x[0].norm(3.0)),
        ["norm(dim, p=1)"] = new(In(g => Away(g, 3, 4)), x => x[0].norm(1, p: 1)),
        ["norm(dim, p=2, keepdim)"] = new(In(g => N(g, 3, 4)), x => x[0].norm(0, p: 2, keepdim: true)),
        ["norm(dims)"] = new(In(g => N(g, 2, 3, 4)), x => x[0].norm([1, 2])),
        ["amax(dim)"] = new(In(g => N(g, 3, 4)), x => x[0].amax(1)),
        ["amin(dim, keepdim)"] = new(In(g => N(g, 3, 4)), x => x[0].amin(0, keepdim: true)),
        ["amax(dims)"] = new(In(g => N(g, 2, 3, 4)), x => x[0].amax([0, 2])),
        ["max()"] = new(In(g => N(g, 3, 4)), x => x[0].max()),
        ["min()"] = new(In(g => N(g, 3, 4)), x => x[0].min()),
        ["max(dim) values"] = new(In(g => N(g, 3, 4)), x => x[0].max(1).values),
        ["min(dim, keepdim) values"] = new(In(g => N(g, 3, 4)), x => x[0].min(0, keepdim: true).values),
        ["max(dim) via indices (gather)"] = new(In(g => N(g, 3, 4)), x => x[0].gather(1, x[0].max(1, keepdim: true).indexes)),
        ["prod()"] = new(In(g => Away(g, 2, 3)), x => x[0].prod()),
        ["prod(dim)"] = new(In(g => Away(g, 3, 4)), x => x[0].prod(1)),
        ["cumsum"] = new(In(g => N(g, 3, 4)), x => x[0].cumsum(1)),
        ["topk values"] = new(In(g => N(g, 3, 5)), x => x[0].topk(2).values),
        ["sort values"] = new(In(g => N(g, 3, 5)), x => x[0].sort(1, descending: true).values),
        ["torch.sum/mean"] = new(In(g => N(g, 3, 4)), x => torch.sum(x[0]) * torch.mean(x[0])),
    };
    public static TheoryData<string> ReductionNames => Names(ReductionCases);
    [Theory, MemberData(nameof(ReductionNames))]
    public void Reduction(string name) => Run(ReductionCases, name);

    // ================= linear algebra =================
    public static readonly Dictionary<string, Case> LinalgCases = new()
    {
        ["matmul mat·mat"] = new(In(g => N(g, 3, 4), g => N(g, 4, 2)), x => x[0].matmul(x[1])),
        ["matmul vec·mat"] = new(In(g => N(g, 4), g => N(g, 4, 2)), x => x[0].matmul(x[1])),
        ["matmul mat·vec"] = new(In(g => N(g, 3, 4), g => N(g, 4)), x => torch.matmul(x[0], x[1])),
        ["matmul batched broadcast"] = new(In(g => N(g, 2, 1, 3, 4), g => N(g, 3, 4, 2)), x => x[0].matmul(x[1])),
        ["mm"] = new(In(g => N(g, 3, 4), g => N(g, 4, 2)), x => torch.mm(x[0], x[1])),
        ["bmm"] = new(In(g => N(g, 2, 3, 4), g => N(g, 2, 4, 2)), x => torch.bmm(x[0], x[1])),
        ["dot"] = new(In(g => N(g, 5), g => N(g, 5)), x => x[0].dot(x[1])),
        ["outer"] = new(In(g => N(g, 3), g => N(g, 4)), x => x[0].outer(x[1])),
        ["einsum ij,jk->ik"] = new(In(g => N(g, 3, 4), g => N(g, 4, 2)), x => einsum("ij,jk->ik", x[0], x[1])),
        ["einsum bij,bjk->bik"] = new(In(g => N(g, 2, 3, 4), g => N(g, 2, 4, 2)), x => einsum("bij,bjk->bik", x[0], x[1])),
        ["einsum ij,ij->i"] = new(In(g => N(g, 3, 4), g => N(g, 3, 4)), x => einsum("ij,ij->i", x[0], x[1])),
        ["einsum ij->ji"] = new(In(g => N(g, 3, 4)), x => einsum("ij->ji", x[0])),
        ["einsum ii->i"] = new(In(g => N(g, 3, 3)), x => einsum("ii->i", x[0])),
        ["einsum i,j,k->ijk"] = new(In(g => N(g, 2), g => N(g, 3), g => N(g, 2)), x => einsum("i,j,k->ijk", x[0], x[1], x[2])),
        ["einsum ...ij,...jk"] = new(In(g => N(g, 2, 3, 4), g => N(g, 4, 2)), x => einsum("...ij,jk->...ik", x[0], x[1])),
    };
    public static TheoryData<string> LinalgNames => Names(LinalgCases);
    [Theory, MemberData(nameof(LinalgNames))]
    public void Linalg(string name) => Run(LinalgCases, name);

    // ================= fused multiply-adds (Tensor.Blas.cs) =================
    public static readonly Dictionary<string, Case> FusedCases = new()
    {
        ["add(other, alpha)"] = new(In(g => N(g, 2, 3), g => N(g, 3)), x => x[0].add(x[1], -0.7)),
        ["torch.add(alpha)"] = new(In(g => N(g, 2, 3), g => N(g, 2, 3)), x => torch.add(x[0], x[1] * x[1], 2.5)),
        ["addmm"] = new(In(g => N(g, 2, 4), g => N(g, 2, 3), g => N(g, 3, 4)), x => x[0].addmm(x[1], x[2], beta: 0.5, alpha: 2)),
        ["addmm broadcast bias"] = new(In(g => N(g, 4), g => N(g, 2, 3), g => N(g, 3, 4)), x => torch.addmm(x[0], x[1], x[2])),
        ["baddbmm"] = new(In(g => N(g, 2, 2, 4), g => N(g, 2, 2, 3), g => N(g, 2, 3, 4)), x => x[0].baddbmm(x[1], x[2], beta: -1, alpha: 0.3)),
        ["addcmul"] = new(In(g => N(g, 2, 3), g => N(g, 2, 3), g => N(g, 3)), x => x[0].addcmul(x[1], x[2], 0.5)),
        ["lerp"] = new(In(g => N(g, 2, 3), g => N(g, 2, 3)), x => x[0].lerp(x[1], 0.3)),
    };
    public static TheoryData<string> FusedNames => Names(FusedCases);
    [Theory, MemberData(nameof(FusedNames))]
    public void Fused(string name) => Run(FusedCases, name);

    // ================= in-place ops and indexed assignment on non-leaves =================
    public static readonly Dictionary<string, Case> InPlaceCases = new()
    {
        ["add_/mul_/sub_/div_ (tensor)"] = new(In(g => N(g, 2, 3), g => Away(g, 2, 3)), x => x[0].clone().add_(x[1], 2).mul_(x[1]).sub_(x[0]).div_(x[1])),
        ["add_/mul_/div_ (scalar), pow_, neg_, exp_"] = new(In(g => Pos(g, 2, 3)), x => x[0].clone().mul_(3).add_(1).div_(2).pow_(1.5).neg_().exp_()),
        ["sqrt_, relu_, clamp_"] = new(In(g => Pos(g, 2, 3), g => Away(g, 2, 3)), x => x[0].clone().sqrt_() + x[1].clone().relu_() + x[1].clone().clamp_(-0.5, 0.6)),
        ["addcmul_/addcdiv_"] = new(In(g => N(g, 2, 3), g => N(g, 2, 3), g => Pos(g, 2, 3)), x => x[0].clone().addcmul_(x[1], x[2], 0.5).addcdiv_(x[1], x[2], -2)),
        ["copy_ into a slice"] = new(In(g => N(g, 3, 4), g => N(g, 2, 4)), x =>
        {
            var y = x[0] * 1;
            y[1..].copy_(x[1]);
            return y;
        }),
        ["indexed assignment t[mask] = v"] = new(In(g => N(g, 3, 4), g => N(g, 1)), x =>
        {
            var y = x[0] * 2;
            y[x[0].detach() > 0] = x[1];
            return y;
        }),
        ["indexed assignment t[rows, cols] = v"] = new(In(g => N(g, 3, 4), g => N(g, 2)), x =>
        {
            var y = x[0].clone();
            y[tensor(new long[] { 0, 2 }), tensor(new long[] { 3, 1 })] = x[1];
            return y;
        }),
        ["masked_fill_"] = new(In(g => N(g, 2, 3)), x => x[0].clone().masked_fill_(x[0].detach() < 0, -1)),
        ["index_put_"] = new(In(g => N(g, 3, 2), g => N(g, 2, 2)), x => x[0].clone().index_put_(tensor(new long[] { 2, 0 }), x[1])),
    };
    public static TheoryData<string> InPlaceNames => Names(InPlaceCases);
    [Theory, MemberData(nameof(InPlaceNames))]
    public void InPlace(string name) => Run(InPlaceCases, name);

    // ================= shape and indexing =================
    private static readonly long[] Perm = [2, 0, 3, 1];

    public static readonly Dictionary<string, Case> ShapeCases = new()
    {
        ["view"] = new(In(g => N(g, 2, 3, 4)), x => x[0].view(6, 4)),
        ["view(-1)"] = new(In(g => N(g, 2, 3, 4)), x => x[0].view(-1)),
        ["reshape"] = new(In(g => N(g, 2, 3, 4)), x => x[0].permute(2, 0, 1).reshape(4, 6)),
        ["flatten"] = new(In(g => N(g, 2, 3, 4)), x => x[0].flatten(1)),
        ["torch.flatten"] = new(In(g => N(g, 2, 3, 4)), x => torch.flatten(x[0])),
        ["permute"] = new(In(g => N(g, 2, 3, 4)), x => x[0].permute(2, 0, 1)),
        ["transpose"] = new(In(g => N(g, 2, 3, 4)), x => x[0].transpose(0, 2)),
        ["squeeze/unsqueeze"] = new(In(g => N(g, 2, 1, 4)), x => x[0].squeeze(1).unsqueeze(0).unsqueeze(-1) * 2),
        ["squeeze()"] = new(In(g => N(g, 1, 3, 1)), x => x[0].squeeze()),
        ["expand"] = new(In(g => N(g, 3, 1)), x => x[0].expand(2, 3, 4)),
        ["expand_as"] = new(In(g => N(g, 1, 4)), x =>
        {
            using var shape = zeros(3, 4);
            return x[0].expand_as(shape);
        }),
        ["repeat"] = new(In(g => N(g, 2, 3)), x => x[0].repeat(2, 1, 3)),
        ["cat"] = new(In(g => N(g, 2, 3), g => N(g, 2, 2)), x => cat([x[0], x[1]], 1)),
        ["cat dim 0 of three"] = new(In(g => N(g, 1, 3), g => N(g, 2, 3), g => N(g, 1, 3)), x => cat([x[0], x[1], x[2]])),
        ["stack"] = new(In(g => N(g, 2, 3), g => N(g, 2, 3)), x => stack([x[0], x[1]], 1)),
        ["split(size)"] = new(In(g => N(g, 2, 5)), x =>
        {
            var parts = x[0].split(2, 1); // [2,2], [2,2], [2,1]
            return parts[0] * 1 + parts[1] * parts[1] - parts[2].exp();
        }),
        ["split(sizes)"] = new(In(g => N(g, 4, 3)), x =>
        {
            var parts = x[0].split([1, 3], 0);
            return parts[0].sin() + parts[1] * 2;
        }),
        ["chunk"] = new(In(g => N(g, 2, 6)), x =>
        {
            var parts = x[0].chunk(3, 1);
            return parts[0] * parts[1] + parts[2];
        }),
        ["unbind"] = new(In(g => N(g, 3, 2)), x =>
        {
            var rows = x[0].unbind(0);
            return rows[0] * rows[1] - rows[2];
        }),
        ["narrow"] = new(In(g => N(g, 2, 5)), x => x[0].narrow(1, 1, 3)),
        ["select"] = new(In(g => N(g, 2, 5)), x => x[0].select(1, -2)),
        ["indexer t[1..3, ^1]"] = new(In(g => N(g, 4, 5)), x => x[0][1..3, ^1]),
        ["indexer t[.., Slice(0, null, 2)]"] = new(In(g => N(g, 3, 5)), x => x[0][.., TensorIndex.Slice(0, null, 2)]),
        ["indexer t[Ellipsis, 0]"] = new(In(g => N(g, 2, 3, 4)), x => x[0][TensorIndex.Ellipsis, 0]),
        ["indexer t[None, 1, ..]"] = new(In(g => N(g, 3, 4)), x => x[0][TensorIndex.None, 1, ..]),
        ["indexer t[long index]"] = new(In(g => N(g, 4, 3)), x =>
        {
            using var idx = tensor(new long[] { 3, 0, 3 });
            return x[0][idx];
        }),
        ["indexer t[.., long index]"] = new(In(g => N(g, 4, 3)), x =>
        {
            using var idx = tensor(new long[] { 2, 0 });
            return x[0][.., idx];
        }),
        ["indexer t[bool mask]"] = new(In(g => N(g, 2, 3)), x =>
        {
            using var mask = tensor(new[] { true, false, true, true, false, false }, [2, 3]);
            return x[0][mask];
        }),
        ["index_select"] = new(In(g => N(g, 3, 4)), x =>
        {
            using var idx = tensor(new long[] { 3, 1, 1 });
            return x[0].index_select(1, idx);
        }),
        ["gather"] = new(In(g => N(g, 3, 4)), x =>
        {
            using var idx = tensor(new long[] { 0, 3, 2, 2, 1, 0 }, [3, 2]);
            return x[0].gather(1, idx);
        }),
        ["take_along_dim"] = new(In(g => N(g, 3, 4)), x =>
        {
            using var idx = tensor(new long[] { 0, 3, 2, 2, 1, 0 }, [3, 2]);
            return x[0].take_along_dim(idx, 1);
        }),
        ["scatter (self and src)"] = new(In(g => N(g, 2, 4), g => N(g, 2, 2)), x =>
        {
            using var idx = tensor(new long[] { 3, 0, 1, 2 }, [2, 2]);
            return x[0].scatter(1, idx, x[1]);
        }),
        ["scatter_add"] = new(In(g => N(g, 2, 4), g => N(g, 2, 3)), x =>
        {
            using var idx = tensor(new long[] { 3, 0, 3, 1, 1, 2 }, [2, 3]);
            return x[0].scatter_add(1, idx, x[1]);
        }),
        ["masked_fill"] = new(In(g => N(g, 2, 3)), x =>
        {
            using var mask = tensor(new[] { true, false, false, true, false, true }, [2, 3]);
            return x[0].masked_fill(mask, 0.5);
        }),
        ["masked_select"] = new(In(g => N(g, 2, 3)), x =>
        {
            using var mask = tensor(new[] { true, false, false, true, false, true }, [2, 3]);
            return x[0].masked_select(mask);
        }),
        ["flip"] = new(In(g => N(g, 2, 3, 4)), x => x[0].flip(0, 2)),
        ["rot90 k=1"] = new(In(g => N(g, 3, 4)), x => x[0].rot90()),
        ["rot90 k=2 dims(1,2)"] = new(In(g => N(g, 2, 3, 4)), x => x[0].rot90(2, 1, 2)),
        ["rot90 k=-1 dims(-1,-2)"] = new(In(g => N(g, 2, 3, 4)), x => torch.rot90(x[0], -1, -1, -2)),
        ["diagonal"] = new(In(g => N(g, 3, 4)), x => x[0].diagonal(1)),
        ["triu/tril"] = new(In(g => N(g, 3, 4)), x => x[0].triu(1) * 2 + x[0].tril(-1)),
        ["view_as/reshape_as"] = new(In(g => N(g, 2, 6), g => N(g, 3, 4)), x => x[0].view_as(x[1]) * x[1].reshape_as(x[0]).reshape_as(x[1])),
    };
    public static TheoryData<string> ShapeNames => Names(ShapeCases);
    [Theory, MemberData(nameof(ShapeNames))]
    public void Shape(string name) => Run(ShapeCases, name);

    // ================= nn.functional =================
    public static readonly Dictionary<string, Case> FunctionalCases = new()
    {
        ["linear"] = new(In(g => N(g, 3, 4), g => N(g, 2, 4), g => N(g, 2)), x => F.linear(x[0], x[1], x[2])),
        ["linear no bias, 3-D input"] = new(In(g => N(g, 2, 3, 4), g => N(g, 2, 4)), x => F.linear(x[0], x[1])),
        ["conv2d"] = new(In(g => N(g, 1, 2, 5, 5), g => N(g, 3, 2, 3, 3), g => N(g, 3)), x => F.conv2d(x[0], x[1], x[2])),
        ["conv2d stride 2 padding 1"] = new(In(g => N(g, 2, 2, 5, 5), g => N(g, 2, 2, 3, 3), g => N(g, 2)), x => F.conv2d(x[0], x[1], x[2], stride: 2, padding: 1)),
        ["conv2d dilation 2 padding 2"] = new(In(g => N(g, 1, 1, 5, 5), g => N(g, 2, 1, 3, 3)), x => F.conv2d(x[0], x[1], dilation: 2, padding: 2)),
        ["conv2d groups 2"] = new(In(g => N(g, 1, 4, 4, 4), g => N(g, 4, 2, 2, 2), g => N(g, 4)), x => F.conv2d(x[0], x[1], x[2], groups: 2)),
        ["conv2d asymmetric (tuple) stride/padding/dilation"] = new(In(g => N(g, 1, 2, 5, 6), g => N(g, 2, 2, 2, 3)),
            x => F.conv2d(x[0], x[1], null, (2, 1), (1, 0), (1, 2))),
        ["conv_transpose2d"] = new(In(g => N(g, 1, 2, 3, 3), g => N(g, 2, 3, 3, 3), g => N(g, 3)), x => F.conv_transpose2d(x[0], x[1], x[2])),
        ["conv_transpose2d stride 2 padding 1 output_padding 1"] = new(In(g => N(g, 1, 2, 3, 3), g => N(g, 2, 2, 3, 3)),
            x => F.conv_transpose2d(x[0], x[1], stride: 2, padding: 1, outputPadding: 1)),
        ["conv_transpose2d groups 2 dilation 2"] = new(In(g => N(g, 1, 4, 3, 3), g => N(g, 4, 1, 2, 2), g => N(g, 2)),
            x => F.conv_transpose2d(x[0], x[1], x[2], groups: 2, dilation: 2)),
        ["max_pool2d"] = new(In(g => N(g, 1, 2, 4, 4)), x => F.max_pool2d(x[0], 2)),
        ["max_pool2d k3 s1 p1"] = new(In(g => N(g, 1, 1, 4, 4)), x => F.max_pool2d(x[0], 3, stride: 1, padding: 1)),
        ["max_pool2d dilation 2 ceil"] = new(In(g => N(g, 1, 1, 6, 6)), x => F.max_pool2d(x[0], 2, stride: 2, dilation: 2, ceilMode: true)),
        ["avg_pool2d"] = new(In(g => N(g, 1, 2, 4, 4)), x => F.avg_pool2d(x[0], 2)),
        ["avg_pool2d k3 s2 p1 exclude pad"] = new(In(g => N(g, 1, 1, 5, 5)), x => F.avg_pool2d(x[0], 3, stride: 2, padding: 1, countIncludePad: false)),
        ["avg_pool2d ceil mode"] = new(In(g => N(g, 1, 1, 5, 5)), x => F.avg_pool2d(x[0], 2, ceilMode: true)),
        ["adaptive_avg_pool2d"] = new(In(g => N(g, 1, 2, 5, 7)), x => F.adaptive_avg_pool2d(x[0], 2, 3)),
        ["batch_norm training"] = new(In(g => N(g, 4, 3, 2, 2), g => N(g, 3), g => N(g, 3)), x => F.batch_norm(x[0], null, null, x[1], x[2], training: true)),
        ["batch_norm training no affine"] = new(In(g => N(g, 4, 2, 3)), x => F.batch_norm(x[0], null, null, training: true)),
        ["batch_norm training with running stats"] = new(In(g => N(g, 4, 3, 2, 2), g => N(g, 3), g => N(g, 3)), x =>
        {
            using var rm = zeros([3], F64);
            using var rv = ones([3], F64);
            return F.batch_norm(x[0], rm, rv, x[1], x[2], training: true, momentum: 0.3);
        }),
        ["batch_norm eval"] = new(In(g => N(g, 4, 3, 2, 2), g => N(g, 3), g => N(g, 3)), x =>
        {
            using var rm = tensor(new[] { 0.1, -0.2, 0.3 });
            using var rv = tensor(new[] { 0.5, 1.5, 2.0 });
            return F.batch_norm(x[0], rm, rv, x[1], x[2], training: false);
        }),
        ["layer_norm"] = new(In(g => N(g, 2, 3, 4), g => N(g, 4), g => N(g, 4)), x => F.layer_norm(x[0], [4], x[1], x[2])),
        ["layer_norm 2-D shape no affine"] = new(In(g => N(g, 2, 3, 4)), x => F.layer_norm(x[0], [3, 4])),
        ["dropout (seeded)"] = new(In(g => N(g, 4, 5)), x =>
        {
            using var gen = new Generator(7);
            return F.dropout(x[0], 0.4, generator: gen);
        }),
        ["dropout eval is identity"] = new(In(g => N(g, 4, 5)), x => F.dropout(x[0], 0.4, training: false) * 1),
        ["relu"] = new(In(g => Away(g, 3, 4)), x => F.relu(x[0])),
        ["leaky_relu"] = new(In(g => Away(g, 3, 4)), x => F.leaky_relu(x[0], 0.1)),
        ["elu"] = new(In(g => Away(g, 3, 4)), x => F.elu(x[0])),
        ["elu alpha 0.5"] = new(In(g => Away(g, 3, 4)), x => F.elu(x[0], 0.5)),
        ["softplus"] = new(In(g => N(g, 3, 4)), x => F.softplus(x[0])),
        ["softplus beta 2"] = new(In(g => N(g, 3, 4)), x => F.softplus(x[0], 2, 20)),
        ["gelu"] = new(In(g => N(g, 3, 4)), x => F.gelu(x[0])),
        ["hardtanh"] = new(In(g => N(g, 3, 4)), x => F.hardtanh(x[0], -0.5, 0.5)),
        ["sigmoid/tanh"] = new(In(g => N(g, 3, 4)), x => F.sigmoid(x[0]) * F.tanh(x[0])),
        ["softmax"] = new(In(g => N(g, 3, 4)), x => F.softmax(x[0], 1)),
        ["softmax dim 0"] = new(In(g => N(g, 3, 4)), x => F.softmax(x[0], 0)),
        ["log_softmax"] = new(In(g => N(g, 3, 4)), x => F.log_softmax(x[0], -1)),
        ["cross_entropy"] = new(In(g => N(g, 4, 5)), x =>
        {
            using var t = tensor(new long[] { 1, 0, 4, 2 });
            return F.cross_entropy(x[0], t);
        }),
        ["cross_entropy weight, sum"] = new(In(g => N(g, 4, 3)), x =>
        {
            using var t = tensor(new long[] { 1, 0, 2, 2 });
            using var w = tensor(new[] { 0.2, 1.0, 3.0 });
            return F.cross_entropy(x[0], t, w, nn.Reduction.Sum);
        }),
        ["cross_entropy label smoothing, none"] = new(In(g => N(g, 4, 3)), x =>
        {
            using var t = tensor(new long[] { 1, 0, 2, 2 });
            return F.cross_entropy(x[0], t, reduction: nn.Reduction.None, labelSmoothing: 0.1);
        }),
        ["cross_entropy ignore_index"] = new(In(g => N(g, 4, 3)), x =>
        {
            using var t = tensor(new long[] { 1, -100, 2, 0 });
            return F.cross_entropy(x[0], t);
        }),
        ["cross_entropy probabilities (input and target)"] = new(In(g => N(g, 3, 4), g => N(g, 3, 4)), x => F.cross_entropy(x[0], F.softmax(x[1], 1))),
        ["cross_entropy [N,C,d]"] = new(In(g => N(g, 2, 3, 2)), x =>
        {
            using var t = tensor(new long[] { 0, 2, 1, 1 }, [2, 2]);
            return F.cross_entropy(x[0], t);
        }),
        ["nll_loss"] = new(In(g => N(g, 4, 5)), x =>
        {
            using var t = tensor(new long[] { 1, 0, 4, 2 });
            return F.nll_loss(F.log_softmax(x[0], 1), t);
        }),
        ["nll_loss weight"] = new(In(g => N(g, 4, 3)), x =>
        {
            using var t = tensor(new long[] { 1, 0, 2, 2 });
            using var w = tensor(new[] { 0.2, 1.0, 3.0 });
            return F.nll_loss(x[0], t, w);
        }),
        ["mse_loss"] = new(In(g => N(g, 3, 4), g => N(g, 3, 4)), x => F.mse_loss(x[0], x[1])),
        ["mse_loss sum"] = new(In(g => N(g, 3, 4), g => N(g, 3, 4)), x => F.mse_loss(x[0], x[1], nn.Reduction.Sum)),
        ["l1_loss"] = new(In(g => N(g, 3, 4), g => N(g, 3, 4)), x => F.l1_loss(x[0], x[1])),
        ["smooth_l1_loss"] = new(In(g => N(g, 3, 4), g => N(g, 3, 4)), x => F.smooth_l1_loss(x[0], x[1], beta: 0.5)),
        ["binary_cross_entropy"] = new(In(g => Prob(g, 3, 4), g => Prob(g, 3, 4)), x => F.binary_cross_entropy(x[0], x[1])),
        ["binary_cross_entropy weight, none"] = new(In(g => Prob(g, 3, 4)), x =>
        {
            using var t = tensor(new[] { 0.0, 1, 1, 0, 0, 1, 0.5, 0.2, 1, 0, 1, 0 }, [3, 4]);
            using var w = tensor(new[] { 1.0, 2.0, 0.5, 3.0 });
            return F.binary_cross_entropy(x[0], t, w, nn.Reduction.None);
        }),
        ["binary_cross_entropy_with_logits"] = new(In(g => N(g, 3, 4), g => Prob(g, 3, 4)), x => F.binary_cross_entropy_with_logits(x[0], x[1])),
        ["binary_cross_entropy_with_logits pos_weight, weight"] = new(In(g => N(g, 3, 4), g => Prob(g, 3, 4)), x =>
        {
            using var pw = tensor(new[] { 1.0, 2.0, 0.5, 3.0 });
            using var w = tensor(new[] { 0.5, 1.0, 2.0 }, [3, 1]);
            return F.binary_cross_entropy_with_logits(x[0], x[1], w, pw, nn.Reduction.Sum);
        }),
        ["cosine_similarity"] = new(In(g => N(g, 3, 4), g => N(g, 3, 4)), x => F.cosine_similarity(x[0], x[1])),
        ["cosine_similarity broadcast dim -1"] = new(In(g => N(g, 3, 1, 4), g => N(g, 2, 4)), x => F.cosine_similarity(x[0], x[1], -1)),
        ["pairwise_distance"] = new(In(g => N(g, 3, 4), g => N(g, 3, 4)), x => F.pairwise_distance(x[0], x[1])),
        ["pairwise_distance p=1 keepdim"] = new(In(g => N(g, 3, 4), g => N(g, 3, 4)), x => F.pairwise_distance(x[0], x[1], 1, keepdim: true)),
        ["cdist"] = new(In(g => N(g, 3, 4), g => N(g, 5, 4)), x => F.cdist(x[0], x[1])),
        ["cdist batched"] = new(In(g => N(g, 2, 3, 4), g => N(g, 2, 2, 4)), x => F.cdist(x[0], x[1])),
        ["cdist p=1"] = new(In(g => N(g, 3, 4), g => N(g, 2, 4)), x => F.cdist(x[0], x[1], 1)),
        ["interpolate bilinear"] = new(In(g => N(g, 1, 2, 3, 4)), x => F.interpolate(x[0], 5, 7, F.InterpolationMode.Bilinear)),
        ["interpolate bilinear align_corners"] = new(In(g => N(g, 1, 1, 3, 3)), x => F.interpolate(x[0], 4, 5, F.InterpolationMode.Bilinear, alignCorners: true)),
        ["interpolate bilinear scale 2"] = new(In(g => N(g, 1, 1, 2, 3)), x => F.interpolate(x[0], 2.0, F.InterpolationMode.Bilinear)),
        ["interpolate bilinear scale 1.5"] = new(In(g => N(g, 1, 1, 3, 3)), x => F.interpolate(x[0], 1.5, F.InterpolationMode.Bilinear)),
        ["interpolate area"] = new(In(g => N(g, 1, 2, 5, 7)), x => F.interpolate(x[0], 2, 3, F.InterpolationMode.Area)),
        ["interpolate nearest"] = new(In(g => N(g, 1, 2, 2, 3)), x => F.interpolate(x[0], 4, 5)),
        ["pad constant"] = new(In(g => N(g, 1, 2, 3, 3)), x => F.pad(x[0], [1, 2, 0, 1], value: 0.5)),
        ["pad reflect"] = new(In(g => N(g, 1, 2, 3, 3)), x => F.pad(x[0], [1, 1, 2, 1], F.PaddingMode.Reflect)),
        ["pad replicate"] = new(In(g => N(g, 1, 2, 3, 3)), x => F.pad(x[0], [2, 1, 1, 0], F.PaddingMode.Replicate)),
        ["pad circular"] = new(In(g => N(g, 1, 2, 3, 3)), x => F.pad(x[0], [1, 2, 2, 0], F.PaddingMode.Circular)),
        ["pad reflect 1-D"] = new(In(g => N(g, 1, 2, 4)), x => F.pad(x[0], [2, 1], F.PaddingMode.Reflect)),
        ["affine_grid"] = new(In(g => N(g, 2, 2, 3)), x => F.affine_grid(x[0], [2, 1, 3, 4])),
        ["affine_grid align_corners"] = new(In(g => N(g, 1, 2, 3)), x => F.affine_grid(x[0], [1, 3, 2, 2], alignCorners: true)),
        ["affine_grid 3-D"] = new(In(g => N(g, 1, 3, 4)), x => F.affine_grid(x[0], [1, 1, 2, 2, 3])),
        // grid_sample: libtorch has no derivative of grid_sampler_2d_backward, so first order only. Grid points in (−0.9, 0.9).
        ["grid_sample bilinear"] = new(In(g => N(g, 2, 2, 3, 4), g => rand([2, 3, 2, 2], g, F64) * 1.8 - 0.9), x => F.grid_sample(x[0], x[1]), SecondOrder: false),
        ["grid_sample bilinear border align_corners"] = new(In(g => N(g, 1, 1, 4, 3), g => rand([1, 2, 5, 2], g, F64) * 2.4 - 1.2),
            x => F.grid_sample(x[0], x[1], paddingMode: F.GridSamplePaddingMode.Border, alignCorners: true), SecondOrder: false),
        ["grid_sample bicubic reflection"] = new(In(g => N(g, 1, 2, 4, 4), g => rand([1, 3, 3, 2], g, F64) * 2.4 - 1.2),
            x => F.grid_sample(x[0], x[1], F.GridSampleMode.Bicubic, F.GridSamplePaddingMode.Reflection), SecondOrder: false),
        ["grid_sample nearest (input only)"] = new(In(g => N(g, 1, 2, 3, 3)), x =>
        {
            using var grid = tensor(new[] { -0.8, -0.7, 0.1, 0.2, 0.6, -0.3, 0.7, 0.9 }, [1, 2, 2, 2]);
            return F.grid_sample(x[0], grid, F.GridSampleMode.Nearest);
        }, SecondOrder: false),
        ["affine_grid then grid_sample (theta and image)"] = new(In(g => N(g, 2, 1, 5, 5), g => N(g, 2, 2, 3) * 0.3 + eye(2, 3, F64)),
            x => F.grid_sample(x[0], F.affine_grid(x[1], [2, 1, 4, 4])), SecondOrder: false),
        ["lstm_cell"] = new(In(g => N(g, 2, 3), g => N(g, 2, 4), g => N(g, 2, 4), g => N(g, 16, 3), g => N(g, 16, 4), g => N(g, 16), g => N(g, 16)), x =>
        {
            var (h, c) = F.lstm_cell(x[0], (x[1], x[2]), x[3], x[4], x[5], x[6]);
            return cat([h, c], 1);
        }),
        ["lstm_cell no bias"] = new(In(g => N(g, 2, 3), g => N(g, 2, 2), g => N(g, 2, 2), g => N(g, 8, 3), g => N(g, 8, 2)), x =>
        {
            var (h, c) = F.lstm_cell(x[0], (x[1], x[2]), x[3], x[4]);
            return h * c;
        }),
        ["gru_cell"] = new(In(g => N(g, 2, 3), g => N(g, 2, 4), g => N(g, 12, 3), g => N(g, 12, 4), g => N(g, 12), g => N(g, 12)),
            x => F.gru_cell(x[0], x[1], x[2], x[3], x[4], x[5])),
    };
    public static TheoryData<string> FunctionalNames => Names(FunctionalCases);
    [Theory, MemberData(nameof(FunctionalNames))]
    public void Functional(string name) => Run(FunctionalCases, name);

    // ================= the checker itself can fail =================
    [Fact]
    public void GradCheckRejectsAWrongFirstDerivative()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        // y = x·detach(x): the value is x² but autograd sees dy/dx = x, not 2x.
        var ex = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() =>
            GradCheck.Assert("x*detach(x)", x => x[0] * x[0].detach(), [randn([3], g, F64)], secondOrder: false));
        Assert.Contains("grad mismatch", ex.Message);
    }

    [Fact]
    public void GradGradCheckRejectsAWrongSecondDerivative()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(2);
        var x0 = randn([4], g, F64);
        // y = 2·detach(x)·(x − detach(x)) + detach(x)²: the value is x² and the gradient 2·detach(x) = 2x is right,
        // but the gradient is a constant in the graph, so autograd's second derivative is 0 instead of 2.
        var ex = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() =>
            GradCheck.Assert("x² with a detached gradient", x => 2 * x[0].detach() * (x[0] - x[0].detach()) + x[0].detach().square(), [x0]));
        Assert.Contains("gradgrad mismatch", ex.Message);
        // The honest x² passes both orders.
        GradCheck.Assert("x²", x => x[0] * x[0], [x0]);
    }
}

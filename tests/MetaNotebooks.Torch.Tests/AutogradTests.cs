using static MetaNotebooks.Torch.Tests.TestUtil;

namespace MetaNotebooks.Torch.Tests;

/// <summary>The autograd API: backward, .grad, retain_grad, grad modes, torch.autograd.grad options.</summary>
public class AutogradTests
{
    [Fact]
    public void BackwardAccumulatesIntoLeaves()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1.0, 2, 3 }, requires_grad: true);
        Assert.True(x.is_leaf);
        Assert.Null(x.grad);
        (x * x).sum().backward();
        AssertTensor(x.grad!, D(2, 4, 6));
        (x * 3).sum().backward();           // accumulates
        AssertTensor(x.grad!, D(5, 7, 9));
        x.grad = null;
        Assert.Null(x.grad);
        var y = x * 2;                        // non-scalar: needs a gradient
        y.backward(tensor(new[] { 1.0, 0, -1 }));
        AssertTensor(x.grad!, D(2, 0, -2));
        x.grad!.zero_();                      // .grad is the live tensor: in-place changes stick
        AssertTensor(x.grad!, D(0, 0, 0));
    }

    [Fact]
    public void NonLeavesAndRetainGrad()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1.0, 2 }, requires_grad: true);
        var h = (x * 3).retain_grad();
        var other = x * 5;
        Assert.False(h.is_leaf);
        Assert.Equal("MulBackward0", h.grad_fn);
        Assert.Null(x.detach().grad_fn);
        (h * h + other).sum().backward();
        AssertTensor(h.grad!, D(6, 12));
        AssertTensor(x.grad!, D(23, 41));
        Assert.Null(other.grad);
    }

    [Fact]
    public void GradModes()
    {
        using var scope = NewDisposeScope();
        var x = ones([2], requires_grad: true);
        Assert.True(is_grad_enabled());
        using (no_grad())
        {
            Assert.False(is_grad_enabled());
            var y = x * 2;
            Assert.False(y.requires_grad);
            using (enable_grad())
            {
                Assert.True(is_grad_enabled());
                Assert.True((x * 2).requires_grad);
            }
            Assert.False(is_grad_enabled());
        }
        Assert.True(is_grad_enabled());
        var d = x.detach();
        Assert.False(d.requires_grad);
        using (no_grad()) d.add_(1);          // detach shares storage
        AssertTensor(x, D(2, 2));
        var r = zeros(2);
        Assert.False(r.requires_grad);
        Assert.Same(r, r.requires_grad_());
        Assert.True(r.requires_grad);
    }

    [Fact]
    public void AutogradGradOptions()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1.0, 2 }, requires_grad: true);
        var w = tensor(new[] { 3.0, 4 }, requires_grad: true);
        var y = (x * x * w).sum();
        var g = autograd.grad([y], [x, w], retainGraph: true);
        AssertTensor(g[0], D(6, 16));
        AssertTensor(g[1], D(1, 4));
        Assert.False(g[0].requires_grad);
        var again = autograd.grad(y, [x]);      // the graph was retained
        AssertTensor(again[0], D(6, 16));
        Assert.Null(x.grad);                    // autograd.grad does not touch .grad

        var unused = tensor(new[] { 1.0 }, requires_grad: true);
        var z = (x * 2).sum();
        var gu = autograd.grad([z], [x, unused], allowUnused: true);
        AssertTensor(gu[1], D(0));              // materialised as zeros

        // gradOutputs weight a non-scalar output; a null entry means ones for a scalar output
        var v = x * w;
        AssertTensor(autograd.grad([v], [x], [tensor(new[] { 1.0, -1 })])[0], D(3, -4));
        AssertTensor(autograd.grad([(x * w).sum()], [x], [null])[0], D(3, 4));

        // several outputs sum their contributions
        var gs = autograd.grad([(x * 2).sum(), (x * x).sum()], [x]);
        AssertTensor(gs[0], D(4, 6));
    }

    [Fact]
    public void HigherOrderGradients()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 2.0 }, requires_grad: true);
        var y = x.pow(4).sum();                                   // y = x⁴
        var g1 = autograd.grad(y, [x], createGraph: true)[0];     // 4x³ = 32
        Assert.True(g1.requires_grad);
        var g2 = autograd.grad(g1.sum(), [x], createGraph: true)[0]; // 12x² = 48
        var g3 = autograd.grad(g2.sum(), [x])[0];                 // 24x = 48
        Assert.Equal(32.0, g1.item<double>(), 12);
        Assert.Equal(48.0, g2.item<double>(), 12);
        Assert.Equal(48.0, g3.item<double>(), 12);

        // backward with createGraph leaves a differentiable .grad
        var z = tensor(new[] { 3.0 }, requires_grad: true);
        z.pow(3).sum().backward(createGraph: true);
        var gz = z.grad!;
        Assert.True(gz.requires_grad);
        var h = autograd.grad([gz.sum()], [z])[0];
        Assert.Equal(18.0, h.item<double>(), 12);
        z.grad = null;

        // MAML-style: one inner SGD step, gradient of the outer loss through it
        var wt = tensor(new[] { 1.5 }, requires_grad: true);
        var inner = (wt * wt).sum();                               // L_in = w²
        var gi = autograd.grad(inner, [wt], createGraph: true)[0];
        var fast = wt - 0.1 * gi;                                  // w' = 0.8 w
        var outer = (fast * fast * fast).sum();                    // L_out = w'³ = 0.512 w³
        var go = autograd.grad(outer, [wt])[0];                    // 1.536 w² = 3.456
        Assert.Equal(1.536 * 1.5 * 1.5, go.item<double>(), 12);
    }

    [Fact]
    public void SecondDerivativeOfAbsIsReadable()
    {
        // The second derivative of abs (and l1_loss, norm p=1) comes back from libtorch as an "efficient zero
        // tensor" without storage; reading it used to crash the process.
        using var scope = NewDisposeScope();
        var x = tensor(new[] { -1.0, 2 }, requires_grad: true);
        var g = autograd.grad(x.abs().sum(), [x], createGraph: true)[0];
        AssertTensor(g, D(-1, 1));
        var gg = autograd.grad([g.sum()], [x], allowUnused: true)[0];
        AssertTensor(gg, D(0, 0));
        Assert.Equal("tensor([0., 0.], dtype=torch.float64)", gg.ToString());
        var y = tensor(new[] { -1.0, 2 }, requires_grad: true);
        var gy = autograd.grad(nn.functional.l1_loss(y, zeros([2], float64)), [y], createGraph: true)[0];
        gy.sum().backward();
        var yg = y.grad!;
        AssertTensor(yg, D(0, 0));
        yg.add_(1); // and it can be updated in place, as an optimiser does
        AssertTensor(y.grad!, D(1, 1));
    }
}

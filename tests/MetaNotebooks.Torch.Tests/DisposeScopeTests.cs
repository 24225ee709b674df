namespace MetaNotebooks.Torch.Tests;

public class DisposeScopeTests
{
    [Fact]
    public void TensorsMadeInsideAreDisposedAtTheEnd()
    {
        Tensor a, b, c;
        using (var scope = NewDisposeScope())
        {
            a = zeros(3);
            b = a + 1;
            c = b.sum();
            Assert.Equal(3, scope.Count);
            Assert.False(a.IsDisposed || b.IsDisposed || c.IsDisposed);
        }
        Assert.True(a.IsDisposed);
        Assert.True(b.IsDisposed);
        Assert.True(c.IsDisposed);
    }

    [Fact]
    public void MovedAndDetachedTensorsSurvive()
    {
        Tensor kept, detached, dropped, viaScope;
        using (var scope = NewDisposeScope())
        {
            kept = ones(2).MoveToOuterDisposeScope();          // no outer scope: nobody owns it now
            detached = ones(2).DetachFromDisposeScope();
            viaScope = ones(2);
            scope.MoveToOuter(viaScope);
            dropped = ones(2);
            Assert.Equal(1, scope.Count);
        }
        Assert.True(dropped.IsDisposed);
        Assert.False(kept.IsDisposed);
        Assert.False(detached.IsDisposed);
        Assert.False(viaScope.IsDisposed);
        Assert.Equal(new float[] { 1, 1 }, kept.ToArray<float>());
        kept.Dispose();
        detached.Dispose();
        viaScope.Dispose();
    }

    [Fact]
    public void NestedScopesHandTensorsOutward()
    {
        Tensor outerMade, innerKept, innerDropped, deep;
        using (var outer = NewDisposeScope())
        {
            outerMade = zeros(1);
            using (var inner = NewDisposeScope())
            {
                innerKept = (outerMade + 5).MoveToOuterDisposeScope();
                innerDropped = outerMade * 2;
                using (NewDisposeScope())
                {
                    deep = innerKept.exp().MoveToOuterDisposeScope().MoveToOuterDisposeScope(); // one level per call
                }
                Assert.False(deep.IsDisposed);
            }
            Assert.True(innerDropped.IsDisposed);
            Assert.False(innerKept.IsDisposed);
            Assert.False(deep.IsDisposed); // moved twice: from the deepest scope to the middle one, then to the outer one
            Assert.False(outerMade.IsDisposed);
            Assert.Equal(5f, innerKept.item<float>());
            Assert.Equal(3, outer.Count);
        }
        Assert.True(outerMade.IsDisposed);
        Assert.True(innerKept.IsDisposed);
        Assert.True(deep.IsDisposed);
    }

    [Fact]
    public void TensorsMadeBeforeAScopeAreNotItsToDispose()
    {
        using var before = zeros(2);
        using (NewDisposeScope())
        {
            using var _ = before + 1;
        }
        Assert.False(before.IsDisposed);
    }

    [Fact]
    public void UsingADisposedTensorThrowsObjectDisposedException()
    {
        Tensor t;
        using (NewDisposeScope()) t = ones(2, 2);
        Assert.Throws<ObjectDisposedException>(() => t + 1);
        Assert.Throws<ObjectDisposedException>(() => t.ToArray<float>());
        Assert.Throws<ObjectDisposedException>(() => t.item<float>());
        Assert.Throws<ObjectDisposedException>(() => t.shape);
        Assert.Throws<ObjectDisposedException>(() => t.sum());
        Assert.Throws<ObjectDisposedException>(() => t[0]);
        Assert.Throws<ObjectDisposedException>(() => cat([ones(1), t]));
        Assert.Throws<ObjectDisposedException>(() => nn.functional.linear(ones(1, 2), t));
        Assert.Throws<ObjectDisposedException>(() => t.backward());
        Assert.Throws<ObjectDisposedException>(() => autograd.grad([ones(1)], [t]));
        var u = zeros(1);
        u.Dispose();
        u.Dispose(); // twice is fine
        Assert.Throws<ObjectDisposedException>(() => u.requires_grad = true);
        Assert.Equal("tensor(<disposed>)", u.ToString());
    }

    [Fact]
    public void ExplicitDisposeInsideAScopeIsNotADoubleFree()
    {
        using (var scope = NewDisposeScope())
        {
            var a = zeros(10);
            a.Dispose();
            Assert.Equal(0, scope.Count);
        }
        // and the process is still fine
        using var b = ones(1);
        Assert.Equal(1f, b.item<float>());
    }

    [Fact]
    public void ScopesAreThreadLocal()
    {
        using var scope = NewDisposeScope();
        Tensor? fromOtherThread = null;
        var thread = new Thread(() => fromOtherThread = zeros(1));
        thread.Start();
        thread.Join();
        Assert.Equal(0, scope.Count);
        scope.Dispose();
        Assert.False(fromOtherThread!.IsDisposed);
        fromOtherThread.Dispose();
    }

    [Fact]
    public void DisposingAnOuterScopeFirstDoesNotLeaveAFinishedScopeCurrent()
    {
        var outer = NewDisposeScope();
        var inner = NewDisposeScope();
        outer.Dispose(); // out of order
        var t = zeros(1);   // must not join the finished scopes
        Assert.Equal(0, inner.Count);
        inner.Dispose();
        Assert.False(t.IsDisposed);
        t.Dispose();
    }

    [Fact]
    public void LoadedTensorsJoinTheCurrentScope()
    {
        var path = Path.Combine(Path.GetTempPath(), $"mn-scope-{Guid.NewGuid():N}.mnt");
        try
        {
            using (var s = NewDisposeScope()) save(new Dictionary<string, Tensor> { ["a"] = ones(2) }, path);
            Dictionary<string, Tensor> loaded;
            using (var scope = NewDisposeScope())
            {
                loaded = load(path);
                Assert.Equal(1, scope.Count);
            }
            Assert.True(loaded["a"].IsDisposed);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void FinalizersAreABackstop()
    {
        // Tensors nobody disposes are released by their finalizers without crashing the process.
        for (var i = 0; i < 2000; i++) _ = ones(64) * 2;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var t = ones(1);
        Assert.Equal(1f, t.item<float>());
    }
}

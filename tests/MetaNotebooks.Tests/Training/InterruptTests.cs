using MetaNotebooks.Training;

namespace MetaNotebooks.Tests.Training;

// Interrupt is process-wide and every TrainingLoop observes it: a request here must not stop another test's training, so this
// collection runs alone, after the parallel ones.
[CollectionDefinition(nameof(InterruptTests), DisableParallelization = true)]
public sealed class InterruptCollection;

[Collection(nameof(InterruptTests))]
public class InterruptTests
{
    [Fact]
    public void ARequestCancelsTheCurrentTokenOnceAndAResetGivesTheNextRunAFreshOne()
    {
        Interrupt.Reset();
        var first = Interrupt.Token;
        Assert.False(first.IsCancellationRequested);

        Assert.True(Interrupt.Request("kernel interrupt"));
        Assert.True(first.IsCancellationRequested);
        Assert.Equal("kernel interrupt", Interrupt.Reason);
        Assert.False(Interrupt.Request("SIGTERM"));   // the second request of the same run changes nothing
        Assert.Equal("kernel interrupt", Interrupt.Reason);

        Interrupt.Reset();
        var next = Interrupt.Token;
        Assert.False(next.IsCancellationRequested);
        Assert.True(first.IsCancellationRequested);   // tokens handed out before stay cancelled
        Assert.Null(Interrupt.Reason);
    }
}

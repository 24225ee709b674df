using MetaNotebooks.Training;

namespace MetaNotebooks.Tests.Training;

/// <summary>The --hours budget: it stops training when it runs out or when the user cancels, and refuses nonsense.</summary>
public class TimeBudgetTests
{
    [Fact]
    public void TheTokenFiresWhenTheBudgetRunsOutButNotTheCallersToken()
    {
        using var user = new CancellationTokenSource();
        using var budget = new TimeBudget(1e-7, user.Token);   // 0.36 ms
        Assert.True(budget.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(30)));
        Assert.False(user.IsCancellationRequested);
    }

    [Fact]
    public void TheCallersCancellationStopsAnUnlimitedBudget()
    {
        using var user = new CancellationTokenSource();
        using var budget = new TimeBudget(null, user.Token);
        Assert.False(budget.Token.IsCancellationRequested);
        user.Cancel();
        Assert.True(budget.Token.IsCancellationRequested);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void ANonPositiveOrNonFiniteBudgetIsRefused(double hours)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new TimeBudget(hours, CancellationToken.None));
        Assert.Contains("positive number of hours", error.Message);
    }
}

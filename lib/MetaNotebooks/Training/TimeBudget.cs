namespace MetaNotebooks.Training;

/// <summary>
/// An invocation's `--hours` budget joined with the user's cancellation (Ctrl-C): <see cref="Token"/> stops training at
/// whichever comes first. The caller tells them apart by its own token: a budget stop is scored with what was reached,
/// a Ctrl-C is not.
/// </summary>
public sealed class TimeBudget : IDisposable
{
    private readonly CancellationTokenSource budget;
    private readonly CancellationTokenSource linked;

    /// <param name="hours">Null: no time limit, only `cancel`.</param>
    public TimeBudget(double? hours, CancellationToken cancel)
    {
        if (hours is { } h && !(h > 0 && double.IsFinite(h))) throw new ArgumentOutOfRangeException(nameof(hours), h, "a time budget must be a positive number of hours.");
        budget = hours is { } limit ? new CancellationTokenSource(TimeSpan.FromHours(limit)) : new CancellationTokenSource();
        linked = CancellationTokenSource.CreateLinkedTokenSource(cancel, budget.Token);
    }

    public CancellationToken Token => linked.Token;

    public void Dispose()
    {
        linked.Dispose();
        budget.Dispose();
    }
}

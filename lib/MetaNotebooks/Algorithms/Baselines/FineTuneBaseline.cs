using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.Baselines;

/// <summary>
/// Ravi &amp; Larochelle's "Baseline-finetune": for each test episode, the pretrained body plus a new N-way linear head
/// (zeros) is trained on the support set by `steps` full-batch SGD steps of size `learningRate` (the paper: a fixed
/// number of updates, learning rate and its decay searched on the validation episodes; we search the rate only), then
/// classifies the queries. Every parameter is fine-tuned, functionally: the pretrained weights are never modified.
/// Batch norm keeps the pretraining's running statistics (eval mode) during fine-tuning and scoring alike; its affine
/// weights are fine-tuned with the rest.
/// </summary>
public sealed class FineTuneBaseline(ConvEncoder body, int steps, double learningRate) : IEpisodeClassifier
{
    public string Name => "Baseline fine-tune";
    public ConvEncoder Body { get; } = body;
    public int Steps { get; } = steps;
    public double LearningRate { get; } = learningRate;

    public Tensor Scores(TaskBatch batch, int ways)
    {
        var wasTraining = Body.training;
        Body.eval();
        try
        {
            using var scope = NewDisposeScope();
            var scores = Enumerable.Range(0, batch.Count)
                .Select(t => ScoresOfTask(batch.SupportInputs.select(0, t), batch.SupportTargets.select(0, t), batch.QueryInputs.select(0, t), ways)).ToList();
            return stack(scores, 0).MoveToOuterDisposeScope();
        }
        finally { Body.train(wasTraining); }
    }

    /// <summary>Fine-tunes on one support set (x [N·K, C, H, W], y [N·K]) and scores its queries: [M, N].</summary>
    public Tensor ScoresOfTask(Tensor supportX, Tensor supportY, Tensor queryX, int ways)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var body = Body.parameters().Select(p => p.detach().clone().requires_grad_()).ToList();
        long featureCount;
        using (no_grad())
        using (var probe = Body.forward(supportX.narrow(0, 0, 1), body)) featureCount = probe.size(1);
        var w = zeros(ways, featureCount).requires_grad_();
        var b = zeros(ways).requires_grad_();
        for (var step = 0; step < Steps; step++)
        {
            using var inner = NewDisposeScope();
            var logits = nn.functional.linear(Body.forward(supportX, body), w, b);
            var loss = nn.functional.cross_entropy(logits, supportY);
            var all = body.Append(w).Append(b).ToList();
            var g = autograd.grad(loss, all);
            using (no_grad())
                for (var i = 0; i < all.Count; i++) all[i].sub_(g[i] * LearningRate);
        }
        using (no_grad())
            return nn.functional.linear(Body.forward(queryX, body), w, b).MoveToOuterDisposeScope();
    }
}

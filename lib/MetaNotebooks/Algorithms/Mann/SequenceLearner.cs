using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.Mann;

/// <summary>
/// A recurrent learner of label sequences: it reads an episode one step at a time, input (x_t, one-hot y_{t−1}), and
/// predicts y_t. Learning happens inside the sequence (in the state), meta-learning across sequences (in the weights).
/// Its functional forward maps inputs [B, T, pixels + classes] (<see cref="SequenceInput.Build"/>) to logits [B, T, classes].
/// </summary>
public abstract class SequenceLearner : nn.Module
{
    protected SequenceLearner(MannOptions options)
    {
        options.Validate();
        Options = options;
    }

    public MannOptions Options { get; }
    /// <summary>The row name in the paper's table: "MANN" or "LSTM".</summary>
    public abstract string Name { get; }

    /// <summary>Logits [B, T, classes] for an episode batch's images [B, T, C, H, W] and labels [B, T] (int64).</summary>
    public Tensor Logits(Tensor images, Tensor labels)
    {
        using var input = SequenceInput.Build(images, labels, Options.Classes);
        return forward(input);
    }

    /// <summary>The training loss: cross-entropy of every step's prediction, averaged over the steps and episodes.</summary>
    public Tensor Loss(Tensor images, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var logits = Logits(images, labels);
        return nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten()).MoveToOuterDisposeScope();
    }

    protected void CheckInput(Tensor input)
    {
        var width = Options.InputSize + Options.Classes;
        if (input.dim() != 3 || input.size(2) != width)
            throw new ArgumentException($"{Name}: input must be [B, T, {width}] ({Options.InputSize} pixels + {Options.Classes} label units), got [{string.Join(", ", input.shape)}].");
    }
}

/// <summary>
/// The input convention of Santoro et al. (§4.1): at step t the learner sees the image x_t and the previous step's label
/// y_{t−1} (one-hot; zeros at t = 0). The label of x_t comes one step later, so a prediction can only use labels of
/// earlier images: the learner must bind each label to the image it saw one step before.
/// </summary>
public static class SequenceInput
{
    /// <summary>images [B, T, C, H, W] and labels [B, T] (0…classes−1) → [B, T, C·H·W + classes].</summary>
    public static Tensor Build(Tensor images, Tensor labels, int classes)
    {
        if (images.dim() != 5 || labels.dim() != 2 || images.size(0) != labels.size(0) || images.size(1) != labels.size(1))
            throw new ArgumentException($"SequenceInput: images must be [B, T, C, H, W] and labels [B, T]; got [{string.Join(", ", images.shape)}] and [{string.Join(", ", labels.shape)}].");
        using var scope = NewDisposeScope();
        var (batch, steps) = (images.size(0), images.size(1));
        var oneHot = nn.functional.one_hot(labels, classes).to(images.dtype);                     // [B, T, classes]
        var previous = cat([zeros([batch, 1, classes], images.dtype), oneHot.narrow(1, 0, steps - 1)], 1);
        return cat([images.flatten(2), previous], 2).MoveToOuterDisposeScope();
    }
}

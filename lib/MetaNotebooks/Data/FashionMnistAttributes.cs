using MetaNotebooks.Torch;

namespace MetaNotebooks.Data;

/// <summary>
/// Class metadata for zero-shot learning on <see cref="FashionMnist"/>: one attribute vector per class, written by
/// hand for this course from what the classes are (the dataset ships none). Values are in [0, 1]: 1 the attribute
/// holds, 0 it does not, in between "partly" or "often" (e.g. sleeve length ½ for short sleeves, heel ½ because some
/// sandals and boots in the photos have heels and some do not). They describe the typical item, not each photo.
/// <para>
/// Every attribute takes at least two values among the seven seen classes of <see cref="DefaultUnseen"/>, so the
/// attribute encoder gets a training signal for each; a held-out class is then a new combination of known attributes
/// (a dress is worn on the upper and the lower body, like a top and trousers at once; a sneaker is a closed shoe without
/// a shaft; a pullover is a top with long sleeves that does not open at the front).
/// </para>
/// </summary>
public static class FashionMnistAttributes
{
    public static readonly string[] Names =
    [
        "worn on the upper body",
        "worn on the lower body (legs)",
        "worn on the feet",
        "sleeve length (0 none, ½ short, 1 long)",
        "opens at the front (buttons, zip)",
        "has a collar",
        "closed toe",
        "reaches above the ankle (shaft)",
        "has a heel",
        "has straps or a handle",
        "carried, not worn",
        "thick or warm material",
    ];

    /// <summary>Rows in <see cref="FashionMnist.ClassNames"/> order; columns as <see cref="Names"/>.</summary>
    public static readonly double[,] Values =
    {
        //  up   low  feet sleeve open collar toe  shaft heel strap carry thick
        {   1,   0,   0,   0.5,  0,   0,    0,   0,    0,   0,    0,    0.2 }, // T-shirt/top
        {   0,   1,   0,   0,    0,   0,    0,   0,    0,   0,    0,    0.5 }, // Trouser
        {   1,   0,   0,   1,    0,   0,    0,   0,    0,   0,    0,    0.7 }, // Pullover
        {   1,   1,   0,   0.25, 0,   0,    0,   0,    0,   0,    0,    0.2 }, // Dress
        {   1,   0.5, 0,   1,    1,   1,    0,   0,    0,   0,    0,    1   }, // Coat
        {   0,   0,   1,   0,    0,   0,    0,   0,    0.5, 1,    0,    0   }, // Sandal
        {   1,   0,   0,   1,    1,   1,    0,   0,    0,   0,    0,    0.3 }, // Shirt
        {   0,   0,   1,   0,    0,   0,    1,   0,    0,   0,    0,    0.5 }, // Sneaker
        {   0,   0,   0,   0,    0,   0,    0,   0,    0,   1,    1,    0.5 }, // Bag
        {   0,   0,   1,   0,    0,   0,    1,   1,    0.5, 0,    0,    0.8 }, // Ankle boot
    };

    /// <summary>The classes held out by default: Pullover, Dress and Sneaker, one from each group (tops, one-piece, shoes).</summary>
    public static readonly int[] DefaultUnseen = [2, 3, 7];

    public static int Count => Names.Length;

    /// <summary>The attribute vectors of the given classes (all ten by default) as float32 [classes, A].</summary>
    public static Tensor Of(IReadOnlyList<int>? classes = null)
    {
        classes ??= Enumerable.Range(0, FashionMnist.ClassNames.Length).ToArray();
        var a = Count;
        var data = new float[classes.Count * a];
        for (var i = 0; i < classes.Count; i++)
        {
            if (classes[i] < 0 || classes[i] >= FashionMnist.ClassNames.Length) throw new ArgumentOutOfRangeException(nameof(classes), classes[i], "Fashion-MNIST has classes 0…9");
            for (var j = 0; j < a; j++) data[i * a + j] = (float)Values[classes[i], j];
        }
        return torch.tensor(data, [classes.Count, a]);
    }
}

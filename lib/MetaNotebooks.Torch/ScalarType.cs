namespace MetaNotebooks.Torch;

/// <summary>Element types; the values are the codes of native/src/core.cpp.</summary>
public enum ScalarType
{
    Byte = 0, Int8 = 1, Int16 = 2, Int32 = 3, Int64 = 4, Float16 = 5, Float32 = 6, Float64 = 7, Bool = 11,
}

public static class ScalarTypeExtensions
{
    public static int ElementSize(this ScalarType t) => t switch
    {
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        _ => 8,
    };

    public static bool IsFloatingPoint(this ScalarType t) => t is ScalarType.Float16 or ScalarType.Float32 or ScalarType.Float64;

    /// <summary>PyTorch's name: torch.float32, torch.int64, …</summary>
    public static string TorchName(this ScalarType t) => t switch
    {
        ScalarType.Byte => "torch.uint8", ScalarType.Int8 => "torch.int8", ScalarType.Int16 => "torch.int16",
        ScalarType.Int32 => "torch.int32", ScalarType.Int64 => "torch.int64", ScalarType.Float16 => "torch.float16",
        ScalarType.Float32 => "torch.float32", ScalarType.Float64 => "torch.float64", ScalarType.Bool => "torch.bool",
        _ => t.ToString(),
    };
}

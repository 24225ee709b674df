namespace MetaNotebooks.Torch;

public enum DeviceType { CPU = 0, CUDA = 1 }

/// <summary>Where a tensor lives: "cpu", "cuda" or "cuda:N", as torch.device.</summary>
public sealed record Device(DeviceType Type, int Index = -1)
{
    public static Device Parse(string spec)
    {
        var s = spec.Trim().ToLowerInvariant();
        if (s == "cpu") return new Device(DeviceType.CPU);
        if (s == "cuda") return new Device(DeviceType.CUDA);
        if (s.StartsWith("cuda:") && int.TryParse(s[5..], out var i) && i >= 0) return new Device(DeviceType.CUDA, i);
        throw new ArgumentException($"Unknown device '{spec}': use \"cpu\", \"cuda\" or \"cuda:N\".", nameof(spec));
    }

    public override string ToString() => Type == DeviceType.CPU ? "cpu" : Index < 0 ? "cuda" : $"cuda:{Index}";
}

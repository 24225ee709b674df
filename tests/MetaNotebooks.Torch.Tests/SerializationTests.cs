namespace MetaNotebooks.Torch.Tests;

public sealed class SerializationTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), $"mn-save-{Guid.NewGuid():N}");

    public SerializationTests() => Directory.CreateDirectory(dir);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static byte[] Bytes(Tensor t) => t.dtype switch
    {
        ScalarType.Float16 => t.ToArray<Half>().SelectMany(h => BitConverter.GetBytes(h)).ToArray(),
        ScalarType.Float32 => t.ToArray<float>().SelectMany(BitConverter.GetBytes).ToArray(),
        ScalarType.Float64 => t.ToArray<double>().SelectMany(BitConverter.GetBytes).ToArray(),
        ScalarType.Int64 => t.ToArray<long>().SelectMany(BitConverter.GetBytes).ToArray(),
        ScalarType.Int32 => t.ToArray<int>().SelectMany(BitConverter.GetBytes).ToArray(),
        ScalarType.Int16 => t.ToArray<short>().SelectMany(BitConverter.GetBytes).ToArray(),
        ScalarType.Int8 => t.ToArray<sbyte>().Select(b => (byte)b).ToArray(),
        ScalarType.Byte => t.ToArray<byte>(),
        ScalarType.Bool => t.ToArray<bool>().Select(b => (byte)(b ? 1 : 0)).ToArray(),
        _ => throw new ArgumentException(t.dtype.ToString()),
    };

    [Fact]
    public void RoundTripOfEveryDtype()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        var original = new Dictionary<string, Tensor>
        {
            ["f32"] = randn([3, 4], g),
            ["f64"] = randn([2, 2, 2], g, float64),
            ["f16"] = randn([5], g).to(float16),
            ["i64"] = tensor(new[] { long.MinValue, -1, 0, long.MaxValue }),
            ["i32"] = tensor(new[] { int.MinValue, 7, int.MaxValue }),
            ["i16"] = FromData(new short[] { -300, 300 }, [2]),
            ["i8"] = FromData(new sbyte[] { -128, 5, 127 }, [3]),
            ["u8"] = tensor(new byte[] { 0, 128, 255 }),
            ["bool"] = tensor(new[] { true, false, true }),
            ["scalar"] = tensor(3.25),
            ["empty"] = zeros(0, 3),
            ["transposed view"] = arange(6).reshape(2, 3).t(),
            ["ünïcode name/with.dots"] = ones(1),
            ["nan/inf"] = tensor(new[] { double.NaN, double.NegativeInfinity, -0.0 }),
        };
        var path = Path.Combine(dir, "all.mnt");
        save(original, path);
        var loaded = load(path);
        Assert.Equal(original.Keys.Order(), loaded.Keys.Order());
        foreach (var (name, t) in original)
        {
            var l = loaded[name];
            Assert.Equal(t.dtype, l.dtype);
            Assert.Equal(t.shape, l.shape);
            Assert.Equal(Bytes(t), Bytes(l));
            Assert.False(l.requires_grad);
        }
        Assert.Equal(new long[] { 0, 3, 1, 4, 2, 5 }, loaded["transposed view"].reshape(-1).ToArray<long>());
    }

    [Fact]
    public void WritesAtomically()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(dir, "sub", "model.mnt"); // the directory is created
        save(new Dictionary<string, Tensor> { ["a"] = ones(3) }, path);
        save(new Dictionary<string, Tensor> { ["a"] = zeros(3), ["b"] = ones(1) }, path); // replaces
        Assert.Equal(new[] { "model.mnt" }, Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        var loaded = load(path);
        Assert.Equal(new float[] { 0, 0, 0 }, loaded["a"].ToArray<float>());

        // a save that fails half-way leaves the old file intact and no temporary file behind
        var disposed = ones(2);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => save(new Dictionary<string, Tensor> { ["a"] = ones(100), ["z"] = disposed }, path));
        Assert.Equal(new[] { "model.mnt" }, Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        Assert.Equal(2, load(path).Count);
    }

    [Fact]
    public void TruncatedFileGivesAClearError()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(dir, "t.mnt");
        save(new Dictionary<string, Tensor> { ["w"] = ones(100), ["b"] = zeros(10) }, path);
        var bytes = File.ReadAllBytes(path);
        foreach (var keep in new[] { bytes.Length - 1, bytes.Length / 2, 20, 3, 0 })
        {
            File.WriteAllBytes(path, bytes[..keep]);
            var ex = Assert.Throws<InvalidDataException>(() => load(path));
            Assert.Contains(Path.GetFullPath(path), ex.Message);
            Assert.Contains("not a valid", ex.Message);
        }
    }

    [Fact]
    public void CorruptedFileGivesAClearError()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(dir, "c.mnt");
        save(new Dictionary<string, Tensor> { ["w"] = ones(100) }, path);
        var bytes = File.ReadAllBytes(path);
        foreach (var at in new[] { 0, 10, bytes.Length / 2, bytes.Length - 1 })
        {
            var bad = (byte[])bytes.Clone();
            bad[at] ^= 0x40;
            File.WriteAllBytes(path, bad);
            var ex = Assert.Throws<InvalidDataException>(() => load(path));
            Assert.Contains(Path.GetFullPath(path), ex.Message);
        }
        File.WriteAllText(path, "this is not a tensor file at all, but it is long enough to have a header and more");
        Assert.Contains("c.mnt", Assert.Throws<InvalidDataException>(() => load(path)).Message);
        var missing = Path.Combine(dir, "missing.mnt");
        Assert.Contains("missing.mnt", Assert.Throws<FileNotFoundException>(() => load(missing)).Message);
    }

    [Fact]
    public void ModuleStateDictRoundTrip()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(4);
        using var a = new nn.Sequential(new nn.Conv2d(1, 2, 3, generator: g), new nn.BatchNorm2d(2), new nn.Flatten(), new nn.Linear(8, 3, generator: g));
        using var b = new nn.Sequential(new nn.Conv2d(1, 2, 3, generator: g), new nn.BatchNorm2d(2), new nn.Flatten(), new nn.Linear(8, 3, generator: g));
        var x = randn([4, 1, 4, 4], g);
        _ = a.forward(x); // moves the running stats
        a.eval();
        b.eval();
        var path = Path.Combine(dir, "m.mnt");
        save(a.state_dict(), path);
        b.load_state_dict(load(path));
        Assert.Equal(a.forward(x).ToArray<float>(), b.forward(x).ToArray<float>());
        Assert.Equal(new[] { "0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias", "1.running_mean", "1.running_var" }, a.state_dict().Keys);
        var wrong = new Dictionary<string, Tensor>(load(path)) { ["extra"] = ones(1) };
        Assert.Throws<ArgumentException>(() => b.load_state_dict(wrong));
        var badShape = new Dictionary<string, Tensor>(load(path)) { ["3.bias"] = ones(4) };
        Assert.Throws<ArgumentException>(() => b.load_state_dict(badShape));
    }
}

namespace MetaNotebooks.Torch;

/// <summary>A seeded random-number generator (torch.Generator), for sampling that must not touch the global one.</summary>
public sealed class Generator : IDisposable
{
    private IntPtr handle;

    public Generator(ulong seed)
    {
        Native.Check(Native.mn_generator_new(seed, out handle), "Generator");
    }

    ~Generator()
    {
        if (handle != IntPtr.Zero) Native.mn_generator_free(handle);
    }

    internal IntPtr Handle => handle != IntPtr.Zero ? handle : throw new ObjectDisposedException(nameof(Generator));

    public Generator manual_seed(ulong seed)
    {
        Native.Check(Native.mn_generator_seed(Handle, seed), "Generator.manual_seed");
        return this;
    }

    public void Dispose()
    {
        if (handle == IntPtr.Zero) return;
        Native.mn_generator_free(handle);
        handle = IntPtr.Zero;
        GC.SuppressFinalize(this);
    }
}

using System.Security.Cryptography;
using System.Text;

namespace MetaNotebooks.Torch;

public static partial class torch
{
    // File layout (little-endian): "MNTD" u32 version, u32 count, then per tensor: u32 name length, UTF-8 name,
    // i32 dtype, i32 ndim, i64 shape[ndim], i64 nbytes, data; finally the SHA-256 of everything before it, so a
    // truncated or corrupted file is detected before any tensor is built.
    private static readonly byte[] Magic = "MNTD"u8.ToArray();
    private const uint FormatVersion = 1;

    /// <summary>Saves named tensors (a state dict) to `path`, atomically: written to a temp file, then renamed.</summary>
    public static void save(IReadOnlyDictionary<string, Tensor> tensors, string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = $"{full}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            using (var file = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                void Write(ReadOnlySpan<byte> bytes)
                {
                    file.Write(bytes);
                    sha.AppendData(bytes);
                }
                Write(Magic);
                Write(BitConverter.GetBytes(FormatVersion));
                Write(BitConverter.GetBytes((uint)tensors.Count));
                foreach (var (name, t) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    var nameBytes = Encoding.UTF8.GetBytes(name);
                    Write(BitConverter.GetBytes((uint)nameBytes.Length));
                    Write(nameBytes);
                    Write(BitConverter.GetBytes((int)t.dtype));
                    var shape = t.Shape;
                    Write(BitConverter.GetBytes(shape.Length));
                    foreach (var d in shape) Write(BitConverter.GetBytes(d));
                    var data = t.RawBytes();
                    Write(BitConverter.GetBytes((long)data.Length));
                    Write(data);
                }
                file.Write(sha.GetHashAndReset());
                file.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>Loads a file written by <see cref="save"/>. A missing, truncated or corrupt file raises an error naming it.</summary>
    public static Dictionary<string, Tensor> load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"torch.load: no file at {Path.GetFullPath(path)}", path);
        var bytes = File.ReadAllBytes(path);
        InvalidDataException Corrupt(string why) =>
            new($"torch.load: {Path.GetFullPath(path)} is not a valid MetaNotebooks tensor file ({why}); delete it and re-create it (e.g. re-run the command that wrote it).");
        if (bytes.Length < Magic.Length + 8 + 32 || !bytes.AsSpan(0, 4).SequenceEqual(Magic)) throw Corrupt("wrong header or too short");
        var bodyLength = bytes.Length - 32;
        if (!SHA256.HashData(bytes.AsSpan(0, bodyLength)).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32))) throw Corrupt("checksum mismatch: truncated or corrupted");
        var pos = 4;
        T Read<T>() where T : unmanaged
        {
            var size = System.Runtime.InteropServices.Marshal.SizeOf<T>();
            if (pos + size > bodyLength) throw Corrupt("unexpected end of data");
            var v = System.Runtime.InteropServices.MemoryMarshal.Read<T>(bytes.AsSpan(pos, size));
            pos += size;
            return v;
        }
        var version = Read<uint>();
        if (version != FormatVersion) throw Corrupt($"format version {version}, this build reads {FormatVersion}");
        var count = Read<uint>();
        var result = new Dictionary<string, Tensor>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var nameLength = (int)Read<uint>();
                if (nameLength < 0 || pos + nameLength > bodyLength) throw Corrupt("bad name length");
                var name = Encoding.UTF8.GetString(bytes.AsSpan(pos, nameLength));
                pos += nameLength;
                var dtype = (ScalarType)Read<int>();
                if (!Enum.IsDefined(dtype)) throw Corrupt($"unknown dtype {(int)dtype} for '{name}'");
                var ndim = Read<int>();
                if (ndim is < 0 or > 64) throw Corrupt($"bad rank {ndim} for '{name}'");
                var shape = new long[ndim];
                long numel = 1;
                for (var d = 0; d < ndim; d++)
                {
                    shape[d] = Read<long>();
                    if (shape[d] < 0) throw Corrupt($"negative size in '{name}'");
                    numel *= shape[d];
                }
                var nbytes = Read<long>();
                if (nbytes != numel * dtype.ElementSize() || pos + nbytes > bodyLength) throw Corrupt($"size of '{name}' does not match its shape");
                result[name] = Tensor.FromRawBytes(bytes.AsSpan(pos, (int)nbytes), shape, dtype); // joins the current scope, if any
                pos += (int)nbytes;
            }
            if (pos != bodyLength) throw Corrupt("trailing data");
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }
}

public sealed partial class Tensor
{
    /// <summary>The elements' bytes in row-major order (CPU copy).</summary>
    internal unsafe byte[] RawBytes()
    {
        var type = dtype;
        var data = new byte[numel() * type.ElementSize()];
        fixed (byte* p = data) Done(Native.mn_copy_out(Handle, (int)type, p, data.Length), "RawBytes", this);
        return data;
    }

    internal static unsafe Tensor FromRawBytes(ReadOnlySpan<byte> data, long[] shape, ScalarType type)
    {
        fixed (byte* p = data)
        fixed (long* s = shape)
            return Result(Native.mn_from_data(p, s, shape.Length, (int)type, 0, -1, 0, out var r), r, "FromRawBytes");
    }
}

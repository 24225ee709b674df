using System.Buffers.Binary;
using System.IO.Compression;

namespace MetaNotebooks.Data;

/// <summary>
/// The IDX format of LeCun's MNIST files (and Fashion-MNIST, which copies it): a magic number 0x0000TTDD (TT the
/// element type, 0x08 = unsigned byte; DD the number of dimensions), DD big-endian int32 sizes, then the elements in
/// row-major order. Files may be gzipped (<c>.gz</c>, as distributed) or not. Only unsigned-byte files are read: that
/// is what the image and label files hold.
/// </summary>
public static class IdxFile
{
    /// <summary>The sizes and the bytes of an unsigned-byte IDX file; a damaged file raises an error naming it and what is wrong.</summary>
    public static (int[] Shape, byte[] Data) Read(string path)
    {
        byte[] bytes;
        try
        {
            using var file = File.OpenRead(path);
            using var stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            bytes = memory.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new InvalidDataException($"{path} is not a readable gzip file ({e.Message}).", e);
        }
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0)
            throw new InvalidDataException($"{path} is not an IDX file (it does not start with the magic number 0x0000TTDD).");
        if (bytes[2] != 0x08)
            throw new InvalidDataException($"{path}: element type 0x{bytes[2]:x2}; only unsigned bytes (0x08) are read.");
        var dims = bytes[3];
        if (dims == 0 || bytes.Length < 4 + 4 * dims)
            throw new InvalidDataException($"{path}: the header declares {dims} dimensions but the file is {bytes.Length:N0} bytes long.");
        var shape = new int[dims];
        long count = 1;
        for (var i = 0; i < dims; i++)
        {
            shape[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i));
            if (shape[i] <= 0) throw new InvalidDataException($"{path}: dimension {i} has size {shape[i]}.");
            count *= shape[i];
        }
        var start = 4 + 4 * dims;
        if (bytes.Length - start != count)
            throw new InvalidDataException($"{path}: the header promises [{string.Join(", ", shape)}] = {count:N0} bytes of data, the file has {bytes.Length - start:N0} (truncated or damaged).");
        return (shape, bytes[start..]);
    }
}

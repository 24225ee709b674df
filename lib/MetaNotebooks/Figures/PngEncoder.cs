using System.Buffers.Binary;
using System.IO.Compression;

namespace MetaNotebooks.Figures;

/// <summary>
/// Writes 8-bit RGB pixels as a PNG file (no filtering, zlib-deflated), so that a grid of photographs travels in a
/// figure as one compact image (Plotly's image trace `source`) instead of a JSON number per channel and pixel, which made
/// a chapter of Mini-ImageNet images tens of megabytes. Decoded back by libpng in the tests.
/// </summary>
public static class PngEncoder
{
    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    /// <param name="rgb">height × width × 3 bytes, row by row.</param>
    public static byte[] Rgb(byte[] rgb, int width, int height)
    {
        if (width < 1 || height < 1 || rgb.Length != (long)width * height * 3)
            throw new ArgumentException($"PNG: {rgb.Length} bytes are not {width}×{height} RGB pixels");
        using var file = new MemoryStream();
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;   // bits per channel
        header[9] = 2;   // colour type: RGB
        Chunk(file, "IHDR", header);
        using var deflated = new MemoryStream();
        using (var z = new ZLibStream(deflated, CompressionLevel.Optimal, leaveOpen: true))
            for (var y = 0; y < height; y++)
            {
                z.WriteByte(0);   // filter type: none
                z.Write(rgb, y * width * 3, width * 3);
            }
        Chunk(file, "IDAT", deflated.ToArray());
        Chunk(file, "IEND", []);
        return file.ToArray();
    }

    private static void Chunk(Stream file, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        file.Write(length);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        file.Write(typeBytes);
        file.Write(data);
        var crc = 0xFFFFFFFFu;
        foreach (var b in typeBytes.Concat(data)) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        var crcBytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc ^ 0xFFFFFFFFu);
        file.Write(crcBytes);
    }
}

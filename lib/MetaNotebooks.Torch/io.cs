namespace MetaNotebooks.Torch;

public static partial class torch
{
    /// <summary>
    /// Image decoding, as torchvision.io: bytes in, a uint8 tensor [C, H, W] out. PNG goes through libpng and JPEG
    /// through libjpeg-turbo in the native layer; corrupt or truncated data raises a <see cref="TorchException"/>
    /// with the library's message (never a crash, never a silently patched image).
    /// </summary>
    public static class io
    {
        /// <summary>
        /// Decodes a PNG: C = 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA). Bit depths below 8 are scaled to
        /// 0…255 (a 1-bit image gives 0 and 255), palettes become RGB, 16-bit channels are reduced to 8.
        /// </summary>
        public static Tensor decode_png(byte[] data) => decode_png((ReadOnlySpan<byte>)data);

        public static unsafe Tensor decode_png(ReadOnlySpan<byte> data)
        {
            fixed (byte* p = data)
                return Tensor.Result(Native.mn_decode_png(p, data.Length, out var r), r, "decode_png");
        }

        /// <summary>Decodes a JPEG: C = 1 (greyscale), 3 (RGB, converted from YCbCr) or 4 (CMYK as stored).</summary>
        public static Tensor decode_jpeg(byte[] data) => decode_jpeg((ReadOnlySpan<byte>)data);

        public static unsafe Tensor decode_jpeg(ReadOnlySpan<byte> data)
        {
            fixed (byte* p = data)
                return Tensor.Result(Native.mn_decode_jpeg(p, data.Length, out var r), r, "decode_jpeg");
        }

        /// <summary>Decodes a PNG or a JPEG, told apart by their signatures.</summary>
        public static Tensor decode_image(byte[] data) =>
            data.AsSpan().StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']) ? decode_png(data) :
            data.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? decode_jpeg(data) :
            throw new TorchException("decode_image", "neither a PNG nor a JPEG (unknown signature)");
    }
}

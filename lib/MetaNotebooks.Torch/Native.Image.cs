using System.Runtime.InteropServices;

namespace MetaNotebooks.Torch;

internal static unsafe partial class Native
{
    // image.cpp
    [LibraryImport(Lib)] internal static partial IntPtr mn_decode_png(byte* data, long size, out IntPtr result);
    [LibraryImport(Lib)] internal static partial IntPtr mn_decode_jpeg(byte* data, long size, out IntPtr result);
}

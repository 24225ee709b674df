using System.Runtime.InteropServices;

namespace MetaNotebooks.Torch;

internal static partial class Native
{
    // blas.cpp
    [LibraryImport(Lib)] internal static partial IntPtr mn_fused(int op, IntPtr a, IntPtr b, IntPtr c, double beta, double alpha, out IntPtr result);
}

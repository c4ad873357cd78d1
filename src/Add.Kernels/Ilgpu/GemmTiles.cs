using ILGPU;

namespace Add.Kernels.Ilgpu;

/// <summary>Compile-time square tile T of the shared-memory GEMM kernels: T×T threads per group, K in steps of T; each
/// thread computes one output (v1 kernels: a T×T block) or <see cref="GemmRegisters.R"/>² (the blocked v2 kernels: an
/// (R·T)×(R·T) block).</summary>
public interface IGemmTile
{
    int Size { get; }
}

/// <summary>T = 16: 256 threads, a 64×64 block, 2·16·65·4 B ≈ 8.1 KiB of shared memory; the GPU default.</summary>
public readonly struct GemmTile16 : IGemmTile { public int Size => 16; }

/// <summary>T = 8: 64 threads; small enough for ILGPU's CPU accelerator in tests.</summary>
public readonly struct GemmTile8 : IGemmTile { public int Size => 8; }

/// <summary>T = 4: 16 threads, the default CPU device's group limit.</summary>
public readonly struct GemmTile4 : IGemmTile { public int Size => 4; }

/// <summary>Outputs per thread along each side of the register-blocked GEMM kernels (<see cref="GemmAccumulators"/> writes
/// its 4×4 out by hand, so this is not a parameter).</summary>
public static class GemmRegisters
{
    public const int R = 4;
}

/// <summary>
/// One thread's 4×4 outputs in the register-blocked GEMM kernels (LinearDevice.KernelBlocked, Conv2dDevice.KernelBlocked):
/// C[i, j] for A rows a + T·i and B columns b + T·j of a group's shared tiles, both stored k-major with row stride
/// <c>stride</c>. Each C[i, j] is one FMA chain over k in order.
/// </summary>
public struct GemmAccumulators
{
    public float C00, C01, C02, C03, C10, C11, C12, C13, C20, C21, C22, C23, C30, C31, C32, C33;

    /// <summary>Adds the products of the tiles' k rows 0 .. t−1: per k, 4 loads of A, 4 of B, 16 FMAs.</summary>
    public void Accumulate(ArrayView<float> aTile, ArrayView<float> bTile, int a, int b, int t, int stride)
    {
        for (int kk = 0; kk < t; kk++)
        {
            int row = kk * stride;
            float a0 = aTile[row + a], a1 = aTile[row + a + t], a2 = aTile[row + a + 2 * t], a3 = aTile[row + a + 3 * t];
            float b0 = bTile[row + b], b1 = bTile[row + b + t], b2 = bTile[row + b + 2 * t], b3 = bTile[row + b + 3 * t];
            C00 += a0 * b0; C01 += a0 * b1; C02 += a0 * b2; C03 += a0 * b3;
            C10 += a1 * b0; C11 += a1 * b1; C12 += a1 * b2; C13 += a1 * b3;
            C20 += a2 * b0; C21 += a2 * b1; C22 += a2 * b2; C23 += a2 * b3;
            C30 += a3 * b0; C31 += a3 * b1; C32 += a3 * b2; C33 += a3 * b3;
        }
    }
}

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

/// <summary>Outputs per thread along each side of the register-blocked GEMM kernels (the 4×4 accumulators are written out
/// by hand in the kernels, so this is not a parameter).</summary>
public static class GemmRegisters
{
    public const int R = 4;
}

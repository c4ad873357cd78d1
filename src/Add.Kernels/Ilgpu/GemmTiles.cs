namespace Add.Kernels.Ilgpu;

/// <summary>Compile-time square tile T of the shared-memory GEMM kernels: T×T threads per group, T×T outputs, K in steps of T.</summary>
public interface IGemmTile
{
    int Size { get; }
}

/// <summary>T = 16: 256 threads, 2·16·17·4 B ≈ 2.2 KiB of shared memory; the GPU default.</summary>
public readonly struct GemmTile16 : IGemmTile { public int Size => 16; }

/// <summary>T = 8: 64 threads; small enough for ILGPU's CPU accelerator in tests.</summary>
public readonly struct GemmTile8 : IGemmTile { public int Size => 8; }

/// <summary>T = 4: 16 threads, the default CPU device's group limit.</summary>
public readonly struct GemmTile4 : IGemmTile { public int Size => 4; }

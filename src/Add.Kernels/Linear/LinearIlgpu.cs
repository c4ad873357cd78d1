using ILGPU;
using ILGPU.Runtime;

namespace Add.Kernels.Ilgpu;

/// <summary>
/// Linear layer as a GEMM: <c>Y = X·Wᵀ + b</c>, i.e. Y[m, n] = Σ_k X[m, k]·W[n, k] + b[n] (torch.nn.functional.linear;
/// W in torch's [out, in] layout, as stored in the checkpoints).
/// <para>
/// Legend: M rows (tokens, e.g. B·L), K input features, N output features. X [M, K], W [N, K], b [N], Y [M, N], all row-major.
/// </para>
/// <para>
/// Versions:
/// <list type="bullet">
/// <item><see cref="LinearReference.Forward"/>: triple loop with a double accumulator.</item>
/// <item><see cref="Kernel{TTile}"/> (v1): classic shared-memory tiling (Kirk &amp; Hwu, "Programming Massively Parallel
/// Processors", ch. 5), a T×T group computing a T×T block of Y, one output per thread: two shared-memory loads per FMA,
/// 5.1 TFLOP/s at 2048×512×256 on an H200 (perf/logs/gpu-2026-12-04/results.json), 5-8 % of its fp32 peak; but T² times as many groups as
/// v2 has, which the small products need (below).</item>
/// <item><see cref="KernelBlocked{TTile}"/> (v2): register blocking (Volkov &amp; Demmel 2008, "Benchmarking GPUs to tune dense
/// linear algebra"): a T×T group computes a (R·T)×(R·T) block of Y, R = <see cref="GemmRegisters.R"/> = 4, each thread R×R
/// outputs in registers: rows m0 + ty + T·i, columns n0 + tx + T·j (i, j &lt; R; strided, so a warp's shared loads are
/// broadcasts or consecutive). Per K-step of T the group stages X[m0.., k0..] and W[n0.., k0..] k-major (rows padded to
/// R·T+1 against bank conflicts; each thread loads R values of each, consecutive threads consecutive k), then every
/// thread does, per k, R loads of X and R of W for R² FMAs (2R/R² = 0.5 loads per FMA). Each output still sums its K
/// products in order k = 0, 1, … in one FMA chain, as v1 does, so the bits are v1's. Barriers: 2·⌈K/T⌉ per group.
/// On the H200: 11.3 TFLOP/s at 2048×512×256 (2.2× v1), but 2-4× slower than v1 where the (R·T)² blocks are fewer
/// than the GPU's multiprocessors (the emoji model's products: one group walking all of K alone). So
/// <see cref="LinearIlgpu{TTile}"/> launches v2 only when it has at least one block per multiprocessor.</item>
/// </list>
/// </para>
/// </summary>
public static class LinearDevice
{
    /// <summary>v1 kernel. Grid (⌈N/T⌉, ⌈M/T⌉) groups of (T, T) threads; thread (tx, ty) computes Y[m0 + ty, n0 + tx].</summary>
    /// <param name="x">[M, K]</param>
    /// <param name="w">[N, K]</param>
    /// <param name="bias">[N], or empty without bias</param>
    /// <param name="y">[M, N]</param>
    public static void Kernel<TTile>(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, LinearShape shape)
        where TTile : struct, IGemmTile
    {
        int size = default(TTile).Size;
        int stride = size + 1;
        var xTile = SharedMemory.Allocate<float>(default(TTile).Size * (default(TTile).Size + 1));  // [T, T+1]: [m, k]
        var wTile = SharedMemory.Allocate<float>(default(TTile).Size * (default(TTile).Size + 1));  // [T, T+1]: [k, n]
        int tx = Group.IdxX, ty = Group.IdxY;
        int m0 = Grid.IdxY * size, n0 = Grid.IdxX * size;
        int row = m0 + ty, col = n0 + tx;

        float sum = 0f;
        for (int k0 = 0; k0 < shape.K; k0 += size)
        {
            int k = k0 + tx;
            // X[m0 + ty, k0 + tx] and W[n0 + ty, k0 + tx]: consecutive threads read consecutive k (coalesced).
            xTile[ty * stride + tx] = row < shape.M && k < shape.K ? x[(long)row * shape.K + k] : 0f;
            wTile[tx * stride + ty] = n0 + ty < shape.N && k < shape.K ? w[(long)(n0 + ty) * shape.K + k] : 0f;
            Group.Barrier();
            for (int c = 0; c < size; c++)
                sum += xTile[ty * stride + c] * wTile[c * stride + tx];
            Group.Barrier();
        }
        if (row < shape.M && col < shape.N)
        {
            if (shape.HasBias != 0)
                sum += bias[col];
            y[(long)row * shape.N + col] = sum;
        }
    }

    /// <summary>v2 kernel. Grid (⌈N/(R·T)⌉, ⌈M/(R·T)⌉) groups of (T, T) threads; thread (tx, ty) computes
    /// Y[m0 + ty + T·i, n0 + tx + T·j] for i, j &lt; R.</summary>
    /// <param name="x">[M, K]</param>
    /// <param name="w">[N, K]</param>
    /// <param name="bias">[N], or empty without bias</param>
    /// <param name="y">[M, N]</param>
    public static void KernelBlocked<TTile>(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, LinearShape shape)
        where TTile : struct, IGemmTile
    {
        int t = default(TTile).Size;
        int block = GemmRegisters.R * t, stride = block + 1;
        var xTile = SharedMemory.Allocate<float>(default(TTile).Size * (GemmRegisters.R * default(TTile).Size + 1));   // [T][R·T+1]: [k, m]
        var wTile = SharedMemory.Allocate<float>(default(TTile).Size * (GemmRegisters.R * default(TTile).Size + 1));   // [T][R·T+1]: [k, n]
        int tx = Group.IdxX, ty = Group.IdxY;
        int m0 = Grid.IdxY * block, n0 = Grid.IdxX * block;
        int m = shape.M, n = shape.N, kLength = shape.K;

        var acc = new GemmAccumulators();
        for (int k0 = 0; k0 < kLength; k0 += t)
        {
            int k = k0 + tx;
            // X[m0 + ty + T·q, k0 + tx] and W[n0 + ty + T·q, k0 + tx], q < R: consecutive threads read consecutive k.
            for (int q = 0; q < GemmRegisters.R; q++)
            {
                int r = ty + t * q;
                xTile[tx * stride + r] = m0 + r < m && k < kLength ? x[(long)(m0 + r) * kLength + k] : 0f;
                wTile[tx * stride + r] = n0 + r < n && k < kLength ? w[(long)(n0 + r) * kLength + k] : 0f;
            }
            Group.Barrier();
            acc.Accumulate(xTile, wTile, ty, tx, t, stride);
            Group.Barrier();
        }
        Store(y, bias, shape, m0 + ty, n0 + tx, t, acc.C00, acc.C01, acc.C02, acc.C03);
        Store(y, bias, shape, m0 + ty + t, n0 + tx, t, acc.C10, acc.C11, acc.C12, acc.C13);
        Store(y, bias, shape, m0 + ty + 2 * t, n0 + tx, t, acc.C20, acc.C21, acc.C22, acc.C23);
        Store(y, bias, shape, m0 + ty + 3 * t, n0 + tx, t, acc.C30, acc.C31, acc.C32, acc.C33);
    }

    /// <summary>Y[row, col + T·j] = v_j (+ b) for the columns inside N, when the row is inside M.</summary>
    private static void Store(ArrayView<float> y, ArrayView<float> bias, LinearShape shape, int row, int col, int t, float v0, float v1, float v2, float v3)
    {
        if (row >= shape.M)
            return;
        long offset = (long)row * shape.N;
        StoreOne(y, bias, shape, offset, col, v0);
        StoreOne(y, bias, shape, offset, col + t, v1);
        StoreOne(y, bias, shape, offset, col + 2 * t, v2);
        StoreOne(y, bias, shape, offset, col + 3 * t, v3);
    }

    private static void StoreOne(ArrayView<float> y, ArrayView<float> bias, LinearShape shape, long offset, int col, float v)
    {
        if (col < shape.N)
            y[offset + col] = shape.HasBias != 0 ? v + bias[col] : v;
    }
}

/// <summary>Loads <see cref="LinearDevice.Kernel{TTile}"/> and <see cref="LinearDevice.KernelBlocked{TTile}"/> once for an
/// accelerator and launches one of them on caller-owned views: the blocked one when its blocks are at least the
/// accelerator's multiprocessors.</summary>
public sealed class LinearIlgpu<TTile> where TTile : struct, IGemmTile
{
    private readonly Accelerator _accelerator;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LinearShape> _kernel, _blocked;

    public LinearIlgpu(Accelerator accelerator)
    {
        int size = default(TTile).Size;
        if (size * size > accelerator.MaxNumThreadsPerGroup)
            throw new ArgumentException($"tile {size}x{size} exceeds the accelerator's group limit {accelerator.MaxNumThreadsPerGroup}");
        _accelerator = accelerator;
        _kernel = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LinearShape>(LinearDevice.Kernel<TTile>);
        _blocked = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LinearShape>(LinearDevice.KernelBlocked<TTile>);
    }

    /// <summary>Enqueues Y = X·Wᵀ (+ b).</summary>
    /// <param name="x">[M, K]</param>
    /// <param name="w">[N, K]</param>
    /// <param name="bias">[N], or <see cref="ArrayView{T}.Empty"/> for none</param>
    /// <param name="y">[M, N]; may not alias x</param>
    /// <param name="blocked">v2 (true) or v1 (false); null: v2 when its blocks are at least the multiprocessors</param>
    public void Launch(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, int m, int n, int k, AcceleratorStream? stream = null,
        bool? blocked = null)
    {
        KernelArgs.Length(nameof(x), x.Length, (long)m * k);
        KernelArgs.Length(nameof(w), w.Length, (long)n * k);
        KernelArgs.Length(nameof(y), y.Length, (long)m * n);
        if (bias.Length != 0)
            KernelArgs.Length(nameof(bias), bias.Length, n);
        if (m == 0 || n == 0)
            return;
        int size = default(TTile).Size, block = GemmRegisters.R * size;
        var shape = new LinearShape(m, n, k, bias.Length != 0);
        var blocks = new Index2D((n + block - 1) / block, (m + block - 1) / block);
        if (blocked ?? (long)blocks.X * blocks.Y >= _accelerator.NumMultiprocessors)
            _blocked(stream ?? _accelerator.DefaultStream, new KernelConfig(blocks, new Index2D(size, size)), x, w, bias, y, shape);
        else
            _kernel(stream ?? _accelerator.DefaultStream, new KernelConfig(new Index2D((n + size - 1) / size, (m + size - 1) / size), new Index2D(size, size)), x, w, bias, y, shape);
    }
}

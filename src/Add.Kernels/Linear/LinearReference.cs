namespace Add.Kernels;

/// <summary>Sizes of one linear / GEMM launch (passed by value to the ILGPU kernel).</summary>
public readonly struct LinearShape
{
    public readonly int M, N, K;
    public readonly int HasBias;  // 1: add b[n]; 0: b is not read

    public LinearShape(int m, int n, int k, bool hasBias)
    {
        M = m;
        N = n;
        K = k;
        HasBias = hasBias ? 1 : 0;
    }
}

/// <summary>
/// Linear layer as a GEMM: <c>Y = X·Wᵀ + b</c>, i.e. Y[m, n] = Σ_k X[m, k]·W[n, k] + b[n] (torch.nn.functional.linear;
/// W in torch's [out, in] layout, as stored in the checkpoints).
/// <para>
/// Legend: M rows (tokens, e.g. B·L), K input features, N output features. X [M, K], W [N, K], b [N], Y [M, N], all row-major.
/// </para>
/// <para>
/// Versions: <see cref="Forward"/> here, the slow clear one: triple loop with a double accumulator. Beside it
/// <see cref="Cpu.LinearCpu"/> (SIMD) and <see cref="Ilgpu.LinearDevice"/> (ILGPU), each documenting what it changes.
/// </para>
/// </summary>
public static class LinearReference
{
    /// <summary>The slow clear version.</summary>
    /// <param name="x">[M, K]</param>
    /// <param name="w">[N, K]</param>
    /// <param name="bias">[N] or empty</param>
    /// <param name="y">[M, N]</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int m, int n, int k)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = bias.IsEmpty ? 0 : bias[j];
                for (int c = 0; c < k; c++)
                    sum += (double)x[i * k + c] * w[j * k + c];
                y[i * n + j] = (float)sum;
            }
    }
}

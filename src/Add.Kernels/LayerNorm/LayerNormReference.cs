namespace Add.Kernels;

/// <summary>
/// Layer normalization over the last dim (Ba et al. 2016, "Layer Normalization", Eq. 4; torch.nn.functional.layer_norm
/// with normalized_shape [D]): per row, <c>μ = mean(x)</c>, <c>σ² = mean((x − μ)²)</c>, <c>y = (x − μ)/√(σ² + ε)·γ + β</c>.
/// <para>Legend: M rows (tokens, B·L), D features. x [M, D], γ [D], β [D], y [M, D].</para>
/// <para>Versions: <see cref="Forward"/> here (double statistics), the slow clear one. Beside it <see cref="Cpu.LayerNormCpu"/>
/// (SIMD) and <see cref="Ilgpu.LayerNormDevice"/> (ILGPU), each documenting what it changes.</para>
/// </summary>
public static class LayerNormReference
{
    /// <summary>The slow clear version.</summary>
    /// <param name="x">[M, D]</param><param name="gamma">[D]</param><param name="beta">[D]</param><param name="y">[M, D]</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y, int m, int d, float epsilon)
    {
        for (int r = 0; r < m; r++)
        {
            var row = x.Slice(r * d, d);
            double mean = 0;
            foreach (float v in row)
                mean += v;
            mean /= d;
            double sq = 0;
            foreach (float v in row)
                sq += (v - mean) * (v - mean);
            double rstd = 1 / Math.Sqrt(sq / d + epsilon);
            for (int c = 0; c < d; c++)
                y[r * d + c] = (float)((row[c] - mean) * rstd * gamma[c] + beta[c]);
        }
    }
}

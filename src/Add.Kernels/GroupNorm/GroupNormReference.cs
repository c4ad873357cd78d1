namespace Add.Kernels;

/// <summary>Shape and options of one group-norm launch, passed by value to the ILGPU kernel.</summary>
public readonly struct GroupNormShape
{
    public readonly int Channels;       // C
    public readonly int Groups;         // G, divides C
    public readonly int Spatial;        // H·W
    public readonly float Epsilon;      // ε added to σ²
    public readonly int FuseSilu;       // 1: y ← silu(y); 0: plain group norm

    public GroupNormShape(int channels, int groups, int spatial, float epsilon, bool fuseSilu)
    {
        Channels = channels;
        Groups = groups;
        Spatial = spatial;
        Epsilon = epsilon;
        FuseSilu = fuseSilu ? 1 : 0;
    }
}

/// <summary>
/// Group normalization (Wu &amp; He 2018, "Group Normalization", Eq. 1-3), optionally followed by SiLU
/// (Elfwing et al. 2018; Hendrycks &amp; Gimpel 2016), as the UNet and VAE resnets use it.
/// <para>
/// Legend: N batch, C channels, H height, W width, G groups, Cg = C/G channels per group.
/// For each (n, g), over the Cg·H·W values x of that group:
/// <c>μ = mean(x)</c>, <c>σ² = mean((x − μ)²)</c> (biased, as torch), then for channel c
/// <c>y = (x − μ) / √(σ² + ε) · γ[c] + β[c]</c>, and with fused SiLU <c>y ← y · sigmoid(y)</c>.
/// </para>
/// <para>
/// Versions: <see cref="Forward"/> here: plain loops, statistics in double, two passes. The clear version. Beside it
/// <see cref="Cpu.GroupNormCpu"/> (SIMD) and <see cref="Ilgpu.GroupNormDevice"/> (ILGPU), each documenting what it changes.
/// </para>
/// </summary>
public static class GroupNormReference
{
    /// <summary>The argument checks every version runs: G divides C, x and y [N, C, H, W], γ and β [C]. Returns N·C·H·W.</summary>
    public static long Check(long xLength, long gammaLength, long betaLength, long yLength, int n, int c, int h, int w, int groups)
    {
        if (groups <= 0 || c % groups != 0)
            throw new ArgumentException($"channels {c} must be a positive multiple of groups {groups}");
        long count = (long)n * c * h * w;
        KernelArgs.Length("x", xLength, count);
        KernelArgs.Length("y", yLength, count);
        KernelArgs.Length("gamma", gammaLength, c);
        KernelArgs.Length("beta", betaLength, c);
        return count;
    }

    /// <summary>The slow clear version: two passes per group, statistics in double.</summary>
    /// <param name="x">[N, C, H, W]</param>
    /// <param name="gamma">[C]</param>
    /// <param name="beta">[C]</param>
    /// <param name="y">[N, C, H, W]</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        int n, int c, int h, int w, int groups, float epsilon, bool fuseSilu)
    {
        int hw = h * w, cg = c / groups, len = cg * hw;
        for (int b = 0; b < n; b++)
        {
            for (int g = 0; g < groups; g++)
            {
                int start = (b * c + g * cg) * hw;
                double sum = 0;
                for (int i = 0; i < len; i++)
                    sum += x[start + i];
                double mean = sum / len;
                double sq = 0;
                for (int i = 0; i < len; i++)
                {
                    double d = x[start + i] - mean;
                    sq += d * d;
                }
                double rstd = 1.0 / Math.Sqrt(sq / len + epsilon);
                for (int i = 0; i < len; i++)
                {
                    int ch = g * cg + i / hw;
                    double v = (x[start + i] - mean) * rstd * gamma[ch] + beta[ch];
                    if (fuseSilu)
                        v /= 1.0 + Math.Exp(-v);
                    y[start + i] = (float)v;
                }
            }
        }
    }
}

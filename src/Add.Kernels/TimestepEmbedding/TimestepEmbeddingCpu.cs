using System.Runtime.CompilerServices;

namespace Add.Kernels.Cpu;

/// <summary>
/// The sinusoidal timestep embedding of <see cref="TimestepEmbeddingReference"/> on the CPU: t [B] → y [B, D] (diffusers
/// get_timestep_embedding with flip_sin_to_cos and downscale_freq_shift).
/// <para>Versions: <see cref="Forward"/>: exponent, frequency and angle in fp32 as torch computes them, sin/cos of that fp32 angle in double.</para>
/// </summary>
public static class TimestepEmbeddingCpu
{
    /// <summary>Sinusoidal embedding of timesteps t [B] into y [B, D].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> t, Span<float> y, TimestepEmbeddingShape shape)
    {
        int dim = shape.Dim, half = dim / 2;
        if (dim < 2)
            throw new ArgumentException($"embedding dim {dim} must be at least 2");
        KernelArgs.Length(nameof(y), y.Length, (long)t.Length * dim);
        bool flip = shape.FlipSinToCos != 0;
        for (int j = 0; j < half; j++)
        {
            // torch: exponent = −ln(P)·arange(half) (fp32) / (half − shift); freq = exp(exponent) (fp32).
            float exponent = -shape.LogMaxPeriod * j / (half - shape.FreqShift);
            float freq = MathF.Exp(exponent);
            for (int b = 0; b < t.Length; b++)
            {
                float angle = t[b] * freq;
                float sin = (float)Math.Sin(angle), cos = (float)Math.Cos(angle);
                y[b * dim + j] = flip ? cos : sin;
                y[b * dim + half + j] = flip ? sin : cos;
            }
        }
        if (dim % 2 == 1)
            for (int b = 0; b < t.Length; b++)
                y[b * dim + dim - 1] = 0f;
    }
}

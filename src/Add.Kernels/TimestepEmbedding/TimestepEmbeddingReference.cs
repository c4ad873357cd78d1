namespace Add.Kernels;

/// <summary>Options of the timestep embedding (diffusers Timesteps: flip_sin_to_cos, downscale_freq_shift, max_period).</summary>
public readonly struct TimestepEmbeddingShape
{
    public readonly int Dim;            // D
    public readonly int FlipSinToCos;   // 1: [cos, sin]; 0: [sin, cos]
    public readonly float FreqShift;    // downscale_freq_shift (0 in SD's UNet, 1 is the DDPM default)
    public readonly float LogMaxPeriod; // ln(max_period), max_period = 10000

    public TimestepEmbeddingShape(int dim, bool flipSinToCos, float freqShift, double maxPeriod = 10000)
    {
        Dim = dim;
        FlipSinToCos = flipSinToCos ? 1 : 0;
        FreqShift = freqShift;
        LogMaxPeriod = (float)Math.Log(maxPeriod);
    }
}

/// <summary>
/// Sinusoidal timestep embedding (Vaswani et al. 2017 Sec. 3.5; Ho et al. 2020; diffusers get_timestep_embedding):
/// t [B] → y [B, D], half = D/2, f_j = exp(−ln(P)·j/(half − shift)), a = t·f_j, y = [sin a, cos a] or, with
/// flip_sin_to_cos (SD's UNet), [cos a, sin a]; odd D gets a zero last column.
/// <para>Legend: B batch (timesteps), D embedding dim. t [B], y [B, D].</para>
/// <para>Versions: <see cref="Forward"/> here (double), the slow clear one. Beside it <see cref="Cpu.TimestepEmbeddingCpu"/> and
/// <see cref="Ilgpu.TimestepEmbeddingDevice"/>, each documenting what it changes.</para>
/// </summary>
public static class TimestepEmbeddingReference
{
    /// <summary>Timestep embedding in double: t [B] → y [B, D].</summary>
    public static void Forward(ReadOnlySpan<float> t, Span<float> y, int dim, bool flipSinToCos, double freqShift, double maxPeriod = 10000)
    {
        int half = dim / 2;
        for (int b = 0; b < t.Length; b++)
        {
            for (int j = 0; j < half; j++)
            {
                double angle = t[b] * Math.Exp(-Math.Log(maxPeriod) * j / (half - freqShift));
                y[b * dim + j] = (float)(flipSinToCos ? Math.Cos(angle) : Math.Sin(angle));
                y[b * dim + half + j] = (float)(flipSinToCos ? Math.Sin(angle) : Math.Cos(angle));
            }
            if (dim % 2 == 1)
                y[b * dim + dim - 1] = 0f;
        }
    }
}

namespace Add.Kernels;

/// <summary>
/// The memory-bound ops of the UNet/VAE between the big kernels. Versions: the plain reference loops here (SiLU, GELU,
/// GEGLU, upsample; add and concat are single expressions), <see cref="Cpu.ElementwiseCpu"/> (SIMD) and
/// <see cref="Ilgpu.ElementwiseDevice"/> (ILGPU, one thread per output element), each documenting what it changes.
/// <list type="bullet">
/// <item>SiLU y = x·σ(x) (Elfwing et al. 2018). x, y: any shape, same length.</item>
/// <item>GELU y = x·Φ(x) = x/2·(1 + erf(x/√2)) (Hendrycks &amp; Gimpel 2016), the exact (erf) form torch's F.gelu uses;
/// erf by Abramowitz &amp; Stegun 7.1.26 (|error| ≤ 1.5e-7).</item>
/// <item>QuickGELU y = x·σ(1.702·x) (Hendrycks &amp; Gimpel 2016, §2's sigmoid approximation; OpenAI CLIP's activation,
/// transformers' "quick_gelu"). x, y: any shape, same length.</item>
/// <item>GEGLU (Shazeer 2020, "GLU Variants", Eq. 5; diffusers' GEGLU): x [M, 2F] split on the last dim into h = x[:, :F],
/// g = x[:, F:]; y [M, F] = h·gelu(g).</item>
/// <item>Residual add y = a + b (same length; y may alias a or b).</item>
/// <item>Nearest 2× upsample: x [N, C, H, W] → y [N, C, 2H, 2W], y[n, c, i, j] = x[n, c, ⌊i/2⌋, ⌊j/2⌋].</item>
/// <item>Channel concat: a [N, Ca, H, W], b [N, Cb, H, W] → y [N, Ca + Cb, H, W] (torch.cat(dim=1), the UNet's skip connections).</item>
/// <item>ReLU y = max(x, 0) (AutoencoderTiny's activation). x, y: any shape, same length.</item>
/// <item>Tanh clamp y = tanh(x/3)·3 (diffusers' DecoderTiny.forward and TAESD's <c>Clamp</c>: latents softly limited to
/// (−3, 3)). x, y: any shape, same length.</item>
/// <item>Affine y = a·x + b with scalars a, b (AutoencoderTiny's encoder input map [-1, 1] → [0, 1]: a = b = 1/2).</item>
/// </list>
/// </summary>
public static class ElementwiseReference
{
    /// <summary>The tanh clamp's magnitude: diffusers' DecoderTiny computes <c>torch.tanh(x / 3) * 3</c> (taesd.py's Clamp).</summary>
    public const float TanhClampMagnitude = 3f;

    /// <summary>ReLU, plain loop.</summary>
    public static void Relu(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++)
            y[i] = x[i] > 0 ? x[i] : 0f;
    }

    /// <summary>Tanh clamp tanh(x/3)·3, plain loop in double.</summary>
    public static void TanhClamp(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++)
            y[i] = (float)(Math.Tanh(x[i] / (double)TanhClampMagnitude) * TanhClampMagnitude);
    }

    /// <summary>Affine a·x + b, plain loop in double.</summary>
    public static void Affine(ReadOnlySpan<float> x, Span<float> y, float scale, float shift)
    {
        for (int i = 0; i < x.Length; i++)
            y[i] = (float)((double)scale * x[i] + shift);
    }

    /// <summary>SiLU, plain loop in double.</summary>
    public static void Silu(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++)
            y[i] = (float)(x[i] / (1 + Math.Exp(-x[i])));
    }

    /// <summary>GELU (erf form) in double with the same A&amp;S 7.1.26 erf (.NET has no Math.Erf); torch's gelu is the independent check.</summary>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++)
            y[i] = (float)(0.5 * x[i] * (1 + Erf(x[i] / Math.Sqrt(2))));
    }

    /// <summary>QuickGELU x·σ(1.702·x), plain loop in double.</summary>
    public static void QuickGelu(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++)
            y[i] = (float)(x[i] / (1 + Math.Exp(-QuickGeluScale * x[i])));
    }

    /// <summary>QuickGELU's sigmoid scale 1.702 (Hendrycks &amp; Gimpel 2016, §2).</summary>
    public const float QuickGeluScale = 1.702f;

    /// <summary>GEGLU: x [M, 2F] → y [M, F] = x[:, :F]·gelu(x[:, F:]).</summary>
    public static void Geglu(ReadOnlySpan<float> x, Span<float> y, int m, int f)
    {
        for (int r = 0; r < m; r++)
            for (int c = 0; c < f; c++)
            {
                double g = x[r * 2 * f + f + c];
                y[r * f + c] = (float)(x[r * 2 * f + c] * 0.5 * g * (1 + Erf(g / Math.Sqrt(2))));
            }
    }

    /// <summary>Nearest 2× upsample, x [N, C, H, W] → y [N, C, 2H, 2W].</summary>
    public static void Upsample2x(ReadOnlySpan<float> x, Span<float> y, int n, int c, int h, int w)
    {
        for (int nc = 0; nc < n * c; nc++)
            for (int oy = 0; oy < 2 * h; oy++)
                for (int ox = 0; ox < 2 * w; ox++)
                    y[(nc * 2 * h + oy) * 2 * w + ox] = x[(nc * h + oy / 2) * w + ox / 2];
    }

    /// <summary>erf by Abramowitz &amp; Stegun 7.1.26 in double (.NET has no Math.Erf).</summary>
    internal static double Erf(double x)
    {
        double ax = Math.Abs(x), t = 1 / (1 + 0.3275911 * ax);
        double r = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.Exp(-ax * ax);
        return x < 0 ? -r : r;
    }
}

using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Add.Kernels.Ilgpu;

/// <summary>
/// The memory-bound ops of the UNet/VAE between the big kernels, one thread per output element (v1 of each; no
/// other versions yet). Each has a plain reference loop beside it.
/// <list type="bullet">
/// <item>SiLU y = x·σ(x) (Elfwing et al. 2018). x, y: any shape, same length.</item>
/// <item>GELU y = x·Φ(x) = x/2·(1 + erf(x/√2)) (Hendrycks &amp; Gimpel 2016), the exact (erf) form torch's F.gelu uses;
/// erf by Abramowitz &amp; Stegun 7.1.26 (|error| ≤ 1.5e-7).</item>
/// <item>GEGLU (Shazeer 2020, "GLU Variants", Eq. 5; diffusers' GEGLU): x [M, 2F] split on the last dim into h = x[:, :F],
/// g = x[:, F:]; y [M, F] = h·gelu(g).</item>
/// <item>Residual add y = a + b (same length; y may alias a or b).</item>
/// <item>Nearest 2× upsample: x [N, C, H, W] → y [N, C, 2H, 2W], y[n, c, i, j] = x[n, c, ⌊i/2⌋, ⌊j/2⌋].</item>
/// <item>Channel concat: a [N, Ca, H, W], b [N, Cb, H, W] → y [N, Ca + Cb, H, W] (torch.cat(dim=1), the UNet's skip connections).</item>
/// <item>Sinusoidal timestep embedding (Vaswani et al. 2017 Sec. 3.5; Ho et al. 2020; diffusers get_timestep_embedding):
/// t [B] → y [B, D], half = D/2, f_j = exp(−ln(P)·j/(half − shift)), a = t·f_j, y = [sin a, cos a] or, with
/// flip_sin_to_cos (SD's UNet), [cos a, sin a]; odd D gets a zero last column.</item>
/// </list>
/// </summary>
public static class Elementwise
{
    /// <summary>Options of the timestep embedding (diffusers Timesteps: flip_sin_to_cos, downscale_freq_shift, max_period).</summary>
    public readonly struct TimestepShape
    {
        public readonly int Dim;            // D
        public readonly int FlipSinToCos;   // 1: [cos, sin]; 0: [sin, cos]
        public readonly float FreqShift;    // downscale_freq_shift (0 in SD's UNet, 1 is the DDPM default)
        public readonly float LogMaxPeriod; // ln(max_period), max_period = 10000

        public TimestepShape(int dim, bool flipSinToCos, float freqShift, double maxPeriod = 10000)
        {
            Dim = dim;
            FlipSinToCos = flipSinToCos ? 1 : 0;
            FreqShift = freqShift;
            LogMaxPeriod = (float)Math.Log(maxPeriod);
        }
    }

    // ---- device functions ----

    /// <summary>
    /// 1 + erf(z) by Abramowitz &amp; Stegun 7.1.26: erfc(|z|) ≈ (a1·t + … + a5·t⁵)·e^(−z²), t = 1/(1 + p·|z|), then
    /// 1 + erf(z) = 2 − erfc(z) for z ≥ 0 and erfc(|z|) for z &lt; 0: no cancellation for negative z, where GELU is small.
    /// </summary>
    public static float OnePlusErf(float z)
    {
        float az = XMath.Abs(z);
        float t = 1f / (1f + 0.3275911f * az);
        float erfc = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f)))) * XMath.Exp(-az * az);
        return z >= 0f ? 2f - erfc : erfc;
    }

    /// <summary>GELU, erf form.</summary>
    public static float GeluValue(float x) => 0.5f * x * OnePlusErf(x * 0.70710678118654752f);

    /// <summary>SiLU.</summary>
    public static float SiluValue(float x) => x / (1f + XMath.Exp(-x));

    /// <summary>sin and cos of an fp32 angle of any size: Cody-Waite reduction by 2π = 6.28125 + 1.9353072e-3 (6.28125 has
    /// 8 significant bits, so k·6.28125 is exact for |k| &lt; 2^16) into [−π, π], where GPU sin/cos are accurate.</summary>
    public static void SinCos(float angle, out float sin, out float cos)
    {
        float k = XMath.Round(angle * 0.15915494309189535f);
        float r = (angle - k * 6.28125f) - k * 1.9353071795864769e-3f;
        sin = XMath.Sin(r);
        cos = XMath.Cos(r);
    }

    // ---- kernels: one thread per output element ----

    /// <param name="x">[L]</param><param name="y">[L]</param>
    public static void SiluKernel(Index1D i, ArrayView<float> x, ArrayView<float> y) => y[i] = SiluValue(x[i]);

    /// <param name="x">[L]</param><param name="y">[L]</param>
    public static void GeluKernel(Index1D i, ArrayView<float> x, ArrayView<float> y) => y[i] = GeluValue(x[i]);

    /// <param name="i">index into y [M, F]</param><param name="x">[M, 2F]</param><param name="y">[M, F]</param><param name="f">F</param>
    public static void GegluKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, int f)
    {
        int row = i / f, col = i - row * f;
        long h = (long)row * 2 * f + col;
        y[i] = x[h] * GeluValue(x[h + f]);
    }

    /// <param name="a">[L]</param><param name="b">[L]</param><param name="y">[L]</param>
    public static void AddKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) => y[i] = a[i] + b[i];

    /// <param name="i">index into y [N, C, 2H, 2W]</param><param name="x">[N, C, H, W]</param><param name="y">[N, C, 2H, 2W]</param>
    public static void Upsample2xKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, int h, int w)
    {
        int w2 = 2 * w, plane2 = 4 * h * w;
        int nc = i / plane2, rest = i - nc * plane2;
        int oy = rest / w2, ox = rest - oy * w2;
        y[i] = x[(long)nc * h * w + (oy >> 1) * w + (ox >> 1)];
    }

    /// <param name="i">index into y [N, Ca+Cb, H, W]</param><param name="a">[N, Ca, H, W]</param><param name="b">[N, Cb, H, W]</param>
    /// <param name="y">[N, Ca+Cb, H, W]</param><param name="plane">H·W</param>
    public static void ConcatChannelsKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int ca, int cb, int plane)
    {
        int c = ca + cb;
        int n = i / (c * plane), rest = i - n * c * plane;
        int ch = rest / plane, p = rest - ch * plane;
        y[i] = ch < ca ? a[((long)n * ca + ch) * plane + p] : b[((long)n * cb + ch - ca) * plane + p];
    }

    /// <param name="i">index into y [B, D]</param><param name="t">[B] timesteps</param><param name="y">[B, D]</param>
    public static void TimestepEmbeddingKernel(Index1D i, ArrayView<float> t, ArrayView<float> y, TimestepShape s)
    {
        int b = i / s.Dim, col = i - b * s.Dim;
        int half = s.Dim / 2;
        if (col >= 2 * half)
        {
            y[i] = 0f;  // odd D: zero pad
            return;
        }
        int j = col < half ? col : col - half;
        bool first = col < half;
        // As torch: exponent and frequency in fp32, then the fp32 angle t·f.
        float freq = XMath.Exp(-s.LogMaxPeriod * j / (half - s.FreqShift));
        SinCos(t[b] * freq, out float sin, out float cos);
        y[i] = first == (s.FlipSinToCos != 0) ? cos : sin;
    }

    // ---- reference loops ----

    /// <summary>SiLU, plain loop in double.</summary>
    public static void SiluReference(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++)
            y[i] = (float)(x[i] / (1 + Math.Exp(-x[i])));
    }

    /// <summary>GELU (erf form) in double with the same A&amp;S 7.1.26 erf (.NET has no Math.Erf); torch's gelu is the independent check.</summary>
    public static void GeluReference(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++)
            y[i] = (float)(0.5 * x[i] * (1 + ErfDouble(x[i] / Math.Sqrt(2))));
    }

    /// <summary>GEGLU: x [M, 2F] → y [M, F] = x[:, :F]·gelu(x[:, F:]).</summary>
    public static void GegluReference(ReadOnlySpan<float> x, Span<float> y, int m, int f)
    {
        for (int r = 0; r < m; r++)
            for (int c = 0; c < f; c++)
            {
                double g = x[r * 2 * f + f + c];
                y[r * f + c] = (float)(x[r * 2 * f + c] * 0.5 * g * (1 + ErfDouble(g / Math.Sqrt(2))));
            }
    }

    /// <summary>Nearest 2× upsample, x [N, C, H, W] → y [N, C, 2H, 2W].</summary>
    public static void Upsample2xReference(ReadOnlySpan<float> x, Span<float> y, int n, int c, int h, int w)
    {
        for (int nc = 0; nc < n * c; nc++)
            for (int oy = 0; oy < 2 * h; oy++)
                for (int ox = 0; ox < 2 * w; ox++)
                    y[(nc * 2 * h + oy) * 2 * w + ox] = x[(nc * h + oy / 2) * w + ox / 2];
    }

    /// <summary>Timestep embedding in double: t [B] → y [B, D].</summary>
    public static void TimestepEmbeddingReference(ReadOnlySpan<float> t, Span<float> y, int dim, bool flipSinToCos, double freqShift, double maxPeriod = 10000)
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

    private static double ErfDouble(double x)
    {
        double ax = Math.Abs(x), t = 1 / (1 + 0.3275911 * ax);
        double r = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.Exp(-ax * ax);
        return x < 0 ? -r : r;
    }
}

/// <summary>Loads the <see cref="Elementwise"/> kernels once for an accelerator and launches them on caller-owned views.
/// The accelerator's context must be built with <c>EnableAlgorithms()</c> (XMath on GPUs).</summary>
public sealed class ElementwiseIlgpu
{
    private readonly Accelerator _accelerator;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>> _silu, _gelu;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int> _geglu;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>> _add;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int> _upsample;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _concat;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, Elementwise.TimestepShape> _timestep;

    public ElementwiseIlgpu(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _silu = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>>(Elementwise.SiluKernel);
        _gelu = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>>(Elementwise.GeluKernel);
        _geglu = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(Elementwise.GegluKernel);
        _add = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Elementwise.AddKernel);
        _upsample = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(Elementwise.Upsample2xKernel);
        _concat = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(Elementwise.ConcatChannelsKernel);
        _timestep = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, Elementwise.TimestepShape>(Elementwise.TimestepEmbeddingKernel);
    }

    private AcceleratorStream S(AcceleratorStream? stream) => stream ?? _accelerator.DefaultStream;

    /// <summary>y = silu(x). x, y: [L]; y may alias x.</summary>
    public void Silu(ArrayView<float> x, ArrayView<float> y, AcceleratorStream? stream = null)
    {
        Check(nameof(y), y.Length, x.Length);
        if (x.Length > 0)
            _silu(S(stream), Length(x.Length), x, y);
    }

    /// <summary>y = gelu(x) (erf form). x, y: [L]; y may alias x.</summary>
    public void Gelu(ArrayView<float> x, ArrayView<float> y, AcceleratorStream? stream = null)
    {
        Check(nameof(y), y.Length, x.Length);
        if (x.Length > 0)
            _gelu(S(stream), Length(x.Length), x, y);
    }

    /// <summary>y [M, F] = x[:, :F]·gelu(x[:, F:]) for x [M, 2F].</summary>
    public void Geglu(ArrayView<float> x, ArrayView<float> y, int m, int f, AcceleratorStream? stream = null)
    {
        Check(nameof(x), x.Length, 2L * m * f);
        Check(nameof(y), y.Length, (long)m * f);
        if (y.Length > 0)
            _geglu(S(stream), Length(y.Length), x, y, f);
    }

    /// <summary>y = a + b, all [L]; y may alias a or b.</summary>
    public void Add(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, AcceleratorStream? stream = null)
    {
        Check(nameof(b), b.Length, a.Length);
        Check(nameof(y), y.Length, a.Length);
        if (a.Length > 0)
            _add(S(stream), Length(a.Length), a, b, y);
    }

    /// <summary>Nearest 2× upsample: x [N, C, H, W] → y [N, C, 2H, 2W].</summary>
    public void Upsample2x(ArrayView<float> x, ArrayView<float> y, int n, int c, int h, int w, AcceleratorStream? stream = null)
    {
        Check(nameof(x), x.Length, (long)n * c * h * w);
        Check(nameof(y), y.Length, 4L * n * c * h * w);
        if (y.Length > 0)
            _upsample(S(stream), Length(y.Length), x, y, h, w);
    }

    /// <summary>y [N, Ca+Cb, H, W] = cat(a [N, Ca, H, W], b [N, Cb, H, W], dim 1).</summary>
    public void ConcatChannels(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int n, int ca, int cb, int h, int w, AcceleratorStream? stream = null)
    {
        Check(nameof(a), a.Length, (long)n * ca * h * w);
        Check(nameof(b), b.Length, (long)n * cb * h * w);
        Check(nameof(y), y.Length, (long)n * (ca + cb) * h * w);
        if (y.Length > 0)
            _concat(S(stream), Length(y.Length), a, b, y, ca, cb, h * w);
    }

    /// <summary>Sinusoidal embedding of timesteps t [B] into y [B, D].</summary>
    public void TimestepEmbedding(ArrayView<float> t, ArrayView<float> y, Elementwise.TimestepShape shape, AcceleratorStream? stream = null)
    {
        if (shape.Dim < 2)
            throw new ArgumentException($"embedding dim {shape.Dim} must be at least 2");
        Check(nameof(y), y.Length, t.Length * shape.Dim);
        if (y.Length > 0)
            _timestep(S(stream), Length(y.Length), t, y, shape);
    }

    private static Index1D Length(long length) =>
        length <= int.MaxValue ? (int)length : throw new ArgumentException($"{length} elements exceed the kernels' int index");

    private static void Check(string name, long actual, long expected)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has {actual} elements, expected {expected}");
    }
}

using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Add.Kernels.Ilgpu;

/// <summary>
/// The memory-bound ops of the UNet/VAE between the big kernels, one thread per output element (v1 of each; no
/// other versions yet). Each has a plain reference loop in <see cref="ElementwiseReference"/>.
/// <list type="bullet">
/// <item>SiLU y = x·σ(x) (Elfwing et al. 2018). x, y: any shape, same length.</item>
/// <item>GELU y = x·Φ(x) = x/2·(1 + erf(x/√2)) (Hendrycks &amp; Gimpel 2016), the exact (erf) form torch's F.gelu uses;
/// erf by Abramowitz &amp; Stegun 7.1.26 (|error| ≤ 1.5e-7).</item>
/// <item>QuickGELU y = x·σ(1.702·x) (OpenAI CLIP's activation). x, y: any shape, same length.</item>
/// <item>GEGLU (Shazeer 2020, "GLU Variants", Eq. 5; diffusers' GEGLU): x [M, 2F] split on the last dim into h = x[:, :F],
/// g = x[:, F:]; y [M, F] = h·gelu(g).</item>
/// <item>ReLU y = max(x, 0); tanh clamp y = tanh(x/3)·3 as 3·(1 − 2/(e^(2x/3) + 1)) (e^… = +∞ gives 3, 0 gives −3);
/// affine y = a·x + b (AutoencoderTiny).</item>
/// <item>Residual add y = a + b (same length; y may alias a or b).</item>
/// <item>Nearest 2× upsample: x [N, C, H, W] → y [N, C, 2H, 2W], y[n, c, i, j] = x[n, c, ⌊i/2⌋, ⌊j/2⌋].</item>
/// <item>Channel concat: a [N, Ca, H, W], b [N, Cb, H, W] → y [N, Ca + Cb, H, W] (torch.cat(dim=1), the UNet's skip connections).</item>
/// </list>
/// </summary>
public static class ElementwiseDevice
{
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

    /// <summary>QuickGELU x·σ(1.702·x).</summary>
    public static float QuickGeluValue(float x) => x / (1f + XMath.Exp(-ElementwiseReference.QuickGeluScale * x));

    // ---- kernels: one thread per output element ----

    /// <param name="x">[L]</param><param name="y">[L]</param>
    public static void SiluKernel(Index1D i, ArrayView<float> x, ArrayView<float> y) => y[i] = SiluValue(x[i]);

    /// <param name="x">[L]</param><param name="y">[L]</param>
    public static void GeluKernel(Index1D i, ArrayView<float> x, ArrayView<float> y) => y[i] = GeluValue(x[i]);

    /// <param name="x">[L]</param><param name="y">[L]</param>
    public static void QuickGeluKernel(Index1D i, ArrayView<float> x, ArrayView<float> y) => y[i] = QuickGeluValue(x[i]);

    /// <param name="i">index into y [M, F]</param><param name="x">[M, 2F]</param><param name="y">[M, F]</param><param name="f">F</param>
    public static void GegluKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, int f)
    {
        int row = i / f, col = i - row * f;
        long h = (long)row * 2 * f + col;
        y[i] = x[h] * GeluValue(x[h + f]);
    }

    /// <param name="x">[L]</param><param name="y">[L]</param>
    public static void ReluKernel(Index1D i, ArrayView<float> x, ArrayView<float> y) => y[i] = XMath.Max(x[i], 0f);

    /// <summary>tanh(x/3)·3.</summary>
    public static float TanhClampValue(float x) =>
        ElementwiseReference.TanhClampMagnitude * (1f - 2f / (XMath.Exp(x * (2f / ElementwiseReference.TanhClampMagnitude)) + 1f));

    /// <param name="x">[L]</param><param name="y">[L]</param>
    public static void TanhClampKernel(Index1D i, ArrayView<float> x, ArrayView<float> y) => y[i] = TanhClampValue(x[i]);

    /// <param name="x">[L]</param><param name="y">[L]</param><param name="scale">a</param><param name="shift">b</param>
    public static void AffineKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, float scale, float shift) => y[i] = scale * x[i] + shift;

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
}

/// <summary>Loads the <see cref="ElementwiseDevice"/> kernels once for an accelerator and launches them on caller-owned views.
/// The accelerator's context must be built with <c>EnableAlgorithms()</c> (XMath on GPUs).</summary>
public sealed class ElementwiseIlgpu
{
    private readonly Accelerator _accelerator;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>> _silu, _gelu, _quickGelu, _relu, _tanhClamp;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, float, float> _affine;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int> _geglu;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>> _add;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int> _upsample;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _concat;

    public ElementwiseIlgpu(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _silu = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>>(ElementwiseDevice.SiluKernel);
        _gelu = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>>(ElementwiseDevice.GeluKernel);
        _quickGelu = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>>(ElementwiseDevice.QuickGeluKernel);
        _relu = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>>(ElementwiseDevice.ReluKernel);
        _tanhClamp = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>>(ElementwiseDevice.TanhClampKernel);
        _affine = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, float, float>(ElementwiseDevice.AffineKernel);
        _geglu = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(ElementwiseDevice.GegluKernel);
        _add = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ElementwiseDevice.AddKernel);
        _upsample = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(ElementwiseDevice.Upsample2xKernel);
        _concat = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(ElementwiseDevice.ConcatChannelsKernel);
    }

    private AcceleratorStream S(AcceleratorStream? stream) => stream ?? _accelerator.DefaultStream;

    /// <summary>y = silu(x). x, y: [L]; y may alias x.</summary>
    public void Silu(ArrayView<float> x, ArrayView<float> y, AcceleratorStream? stream = null)
    {
        KernelArgs.Length(nameof(y), y.Length, x.Length);
        if (x.Length > 0)
            _silu(S(stream), KernelArgs.Index(x.Length), x, y);
    }

    /// <summary>y = gelu(x) (erf form). x, y: [L]; y may alias x.</summary>
    public void Gelu(ArrayView<float> x, ArrayView<float> y, AcceleratorStream? stream = null)
    {
        KernelArgs.Length(nameof(y), y.Length, x.Length);
        if (x.Length > 0)
            _gelu(S(stream), KernelArgs.Index(x.Length), x, y);
    }

    /// <summary>y = x·σ(1.702·x) (QuickGELU). x, y: [L]; y may alias x.</summary>
    public void QuickGelu(ArrayView<float> x, ArrayView<float> y, AcceleratorStream? stream = null)
    {
        KernelArgs.Length(nameof(y), y.Length, x.Length);
        if (x.Length > 0)
            _quickGelu(S(stream), KernelArgs.Index(x.Length), x, y);
    }

    /// <summary>y = max(x, 0). x, y: [L]; y may alias x.</summary>
    public void Relu(ArrayView<float> x, ArrayView<float> y, AcceleratorStream? stream = null)
    {
        KernelArgs.Length(nameof(y), y.Length, x.Length);
        if (x.Length > 0)
            _relu(S(stream), KernelArgs.Index(x.Length), x, y);
    }

    /// <summary>y = tanh(x/3)·3. x, y: [L]; y may alias x.</summary>
    public void TanhClamp(ArrayView<float> x, ArrayView<float> y, AcceleratorStream? stream = null)
    {
        KernelArgs.Length(nameof(y), y.Length, x.Length);
        if (x.Length > 0)
            _tanhClamp(S(stream), KernelArgs.Index(x.Length), x, y);
    }

    /// <summary>y = a·x + b. x, y: [L]; y may alias x.</summary>
    public void Affine(ArrayView<float> x, ArrayView<float> y, float scale, float shift, AcceleratorStream? stream = null)
    {
        KernelArgs.Length(nameof(y), y.Length, x.Length);
        if (x.Length > 0)
            _affine(S(stream), KernelArgs.Index(x.Length), x, y, scale, shift);
    }

    /// <summary>y [M, F] = x[:, :F]·gelu(x[:, F:]) for x [M, 2F].</summary>
    public void Geglu(ArrayView<float> x, ArrayView<float> y, int m, int f, AcceleratorStream? stream = null)
    {
        KernelArgs.Length(nameof(x), x.Length, 2L * m * f);
        KernelArgs.Length(nameof(y), y.Length, (long)m * f);
        if (y.Length > 0)
            _geglu(S(stream), KernelArgs.Index(y.Length), x, y, f);
    }

    /// <summary>y = a + b, all [L]; y may alias a or b.</summary>
    public void Add(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, AcceleratorStream? stream = null)
    {
        KernelArgs.Length(nameof(b), b.Length, a.Length);
        KernelArgs.Length(nameof(y), y.Length, a.Length);
        if (a.Length > 0)
            _add(S(stream), KernelArgs.Index(a.Length), a, b, y);
    }

    /// <summary>Nearest 2× upsample: x [N, C, H, W] → y [N, C, 2H, 2W].</summary>
    public void Upsample2x(ArrayView<float> x, ArrayView<float> y, int n, int c, int h, int w, AcceleratorStream? stream = null)
    {
        KernelArgs.Length(nameof(x), x.Length, (long)n * c * h * w);
        KernelArgs.Length(nameof(y), y.Length, 4L * n * c * h * w);
        if (y.Length > 0)
            _upsample(S(stream), KernelArgs.Index(y.Length), x, y, h, w);
    }

    /// <summary>y [N, Ca+Cb, H, W] = cat(a [N, Ca, H, W], b [N, Cb, H, W], dim 1).</summary>
    public void ConcatChannels(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int n, int ca, int cb, int h, int w, AcceleratorStream? stream = null)
    {
        KernelArgs.Length(nameof(a), a.Length, (long)n * ca * h * w);
        KernelArgs.Length(nameof(b), b.Length, (long)n * cb * h * w);
        KernelArgs.Length(nameof(y), y.Length, (long)n * (ca + cb) * h * w);
        if (y.Length > 0)
            _concat(S(stream), KernelArgs.Index(y.Length), a, b, y, ca, cb, h * w);
    }
}

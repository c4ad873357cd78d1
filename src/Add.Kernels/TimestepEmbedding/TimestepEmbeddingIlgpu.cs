using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Add.Kernels.Ilgpu;

/// <summary>
/// The sinusoidal timestep embedding of <see cref="TimestepEmbeddingReference"/> on ILGPU. Versions: <see cref="Kernel"/>
/// (v1): one thread per output element; exponent, frequency and angle in fp32 as torch computes them, sin/cos after the
/// Cody-Waite reduction of <see cref="SinCos"/>.
/// </summary>
public static class TimestepEmbeddingDevice
{
    /// <summary>sin and cos of an fp32 angle of any size: Cody-Waite reduction by 2π = 6.28125 + 1.9353072e-3 (6.28125 has
    /// 8 significant bits, so k·6.28125 is exact for |k| &lt; 2^16) into [−π, π], where GPU sin/cos are accurate.</summary>
    public static void SinCos(float angle, out float sin, out float cos)
    {
        float k = XMath.Round(angle * 0.15915494309189535f);
        float r = (angle - k * 6.28125f) - k * 1.9353071795864769e-3f;
        sin = XMath.Sin(r);
        cos = XMath.Cos(r);
    }

    /// <param name="i">index into y [B, D]</param><param name="t">[B] timesteps</param><param name="y">[B, D]</param>
    public static void Kernel(Index1D i, ArrayView<float> t, ArrayView<float> y, TimestepEmbeddingShape s)
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
}

/// <summary>Loads <see cref="TimestepEmbeddingDevice.Kernel"/> once for an accelerator and launches it on caller-owned views.
/// The accelerator's context must be built with <c>EnableAlgorithms()</c> (XMath on GPUs).</summary>
public sealed class TimestepEmbeddingIlgpu
{
    private readonly Accelerator _accelerator;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, TimestepEmbeddingShape> _kernel;

    public TimestepEmbeddingIlgpu(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _kernel = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, TimestepEmbeddingShape>(TimestepEmbeddingDevice.Kernel);
    }

    /// <summary>Sinusoidal embedding of timesteps t [B] into y [B, D].</summary>
    public void Launch(ArrayView<float> t, ArrayView<float> y, TimestepEmbeddingShape shape, AcceleratorStream? stream = null)
    {
        if (shape.Dim < 2)
            throw new ArgumentException($"embedding dim {shape.Dim} must be at least 2");
        KernelArgs.Length(nameof(y), y.Length, t.Length * shape.Dim);
        if (y.Length > 0)
            _kernel(stream ?? _accelerator.DefaultStream, KernelArgs.Index(y.Length), t, y, shape);
    }
}

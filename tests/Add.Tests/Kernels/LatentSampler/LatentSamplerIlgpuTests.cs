using Add.Kernels;
using Add.Kernels.Ilgpu;
using Add.Tests.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.LatentSampler;

/// <summary>The fused latent sampler against the same step formulas written with TorchSharp tensor ops.</summary>
[Trait("Category", "Kernels")]
public abstract class LatentSamplerIlgpuSuite(IlgpuFixture fixture, ITestOutputHelper log)
{
    // Terms up to ~150 (x̂0 = x/√ᾱ − ε̂·√(1−ᾱ)/√ᾱ, 1/√ᾱ ≈ 14.6 at t = 999, guidance 7.5) cancel: the kernel folds the
    // divisions into float coefficients, torch divides, so results differ by ulps of the largest term (seen: 3.1e-5 at |x̂0| ≈ 130).
    private static readonly Tolerance Step = new(Atol: 2e-5, Rtol: 3e-6);

    private const int N = 2, C = 4, H = 5, W = 3;  // [N, C, H, W] latent, 120 elements

    public static TheoryData<string, float> Cases() => new()
    {
        { "student", 0f }, { "student", 3f },
        { "ddim", 0f }, { "ddim", 7.5f },
        { "euler", 0f }, { "euler", 5f },
        { "euler-ancestral", 0f }, { "euler-ancestral", 5f },
    };

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void MatchesTorchFormulas(string sampler, float guidance)
    {
        var random = new Random(42);
        int count = N * C * H * W;
        var x = Numerics.Normal(random, count, std: sampler.StartsWith("euler") ? (float)Sigma(999) : 1f);
        var epsU = Numerics.Normal(random, count);
        var epsC = Numerics.Normal(random, count);
        var noise = Numerics.Normal(random, count);
        const int t = 999, tNext = 749;
        var (sigmaDown, sigmaUp) = AncestralSigmas(Sigma(t), Sigma(tNext));
        var step = sampler switch
        {
            "student" => StudentRenoise(AlphaBar(t), AlphaBar(tNext)),
            "ddim" => Ddim(AlphaBar(t), AlphaBar(tNext)),
            "euler" => Euler(Sigma(t), Sigma(tNext)),
            _ => EulerAncestral(Sigma(t), sigmaDown, sigmaUp),
        };
        if (guidance != 0f)
            step = step.WithGuidance(guidance);

        float[] expectedNext, expectedX0;
        using (NewDisposeScope())
        {
            var tx = tensor(x, [N, C, H, W]);
            var eps = guidance != 0f ? tensor(epsU, [N, C, H, W]) + guidance * (tensor(epsC, [N, C, H, W]) - tensor(epsU, [N, C, H, W])) : tensor(epsC, [N, C, H, W]);
            var tnoise = tensor(noise, [N, C, H, W]);
            Tensor x0, next;
            if (sampler is "student" or "ddim")
            {
                double ab = AlphaBar(t), abNext = AlphaBar(tNext);
                x0 = (tx - Math.Sqrt(1 - ab) * eps) / Math.Sqrt(ab);
                next = Math.Sqrt(abNext) * x0 + Math.Sqrt(1 - abNext) * (sampler == "student" ? tnoise : eps);
            }
            else
            {
                double sigma = Sigma(t), sigmaNext = Sigma(tNext);
                x0 = tx - sigma * eps;
                var d = (tx - x0) / sigma;
                next = sampler == "euler" ? tx + (sigmaNext - sigma) * d : tx + (sigmaDown - sigma) * d + sigmaUp * tnoise;
            }
            expectedNext = next.data<float>().ToArray();
            expectedX0 = x0.data<float>().ToArray();
        }

        var (actualNext, actualX0) = Run(x, guidance != 0f ? epsU : null, epsC, step.UsesNoise != 0 ? noise : null, step);
        Numerics.AssertClose(expectedX0, actualX0, Step, $"{sampler} w={guidance} x̂0", log);
        Numerics.AssertClose(expectedNext, actualNext, Step, $"{sampler} w={guidance} x'", log);

        var referenceNext = new float[count];
        var referenceX0 = new float[count];
        LatentSamplerReference.Step(x, epsU, epsC, noise, referenceNext, referenceX0, step);
        Numerics.AssertClose(expectedNext, referenceNext, Step, "reference loop x'", log);
        Numerics.AssertClose(expectedX0, referenceX0, Step, "reference loop x̂0", log);
    }

    [SkippableFact]
    public void LastStepsReturnX0Exactly()
    {
        // Student with ᾱ' = 1 and Euler with σ' = 0 end on x' = x̂0 bit for bit: their x' coefficients are the x̂0 ones.
        var random = new Random(42);
        int count = N * C * H * W;
        var x = Numerics.Normal(random, count);
        var eps = Numerics.Normal(random, count);
        var noise = Numerics.Normal(random, count);
        foreach (var step in new[] { StudentRenoise(AlphaBar(249), 1.0), Euler(Sigma(249), 0.0), Ddim(AlphaBar(249), 1.0) })
        {
            var (next, x0) = Run(x, null, eps, step.UsesNoise != 0 ? noise : null, step);
            Assert.Equal(x0, next);
        }
    }

    [SkippableFact]
    public void UpdatesInPlace()
    {
        // next may be x itself: each thread reads x[i] before writing x'[i].
        var random = new Random(42);
        int count = N * C * H * W;
        var x = Numerics.Normal(random, count);
        var eps = Numerics.Normal(random, count);
        var step = Ddim(AlphaBar(999), AlphaBar(979));
        var (expected, _) = Run(x, null, eps, null, step);

        var accelerator = fixture.Require();
        var sampler = new LatentSamplerIlgpu(accelerator);
        using var dx = accelerator.Allocate1D(x);
        using var deps = accelerator.Allocate1D(eps);
        using var dx0 = accelerator.Allocate1D<float>(count);
        sampler.Launch(dx.View, ArrayView<float>.Empty, deps.View, ArrayView<float>.Empty, dx.View, dx0.View, step);
        accelerator.Synchronize();
        Assert.Equal(expected, dx.GetAsArray1D());
    }

    [Fact]
    public void AncestralSigmasSplitTheVariance()
    {
        var (down, up) = AncestralSigmas(Sigma(999), Sigma(749));
        Assert.Equal(Sigma(749) * Sigma(749), down * down + up * up, 9);
        Assert.Equal((Sigma(749), 0.0), AncestralSigmas(Sigma(999), Sigma(749), eta: 0));
    }

    private (float[] Next, float[] X0) Run(float[] x, float[]? epsUncond, float[] epsCond, float[]? noise, LatentSamplerStep step)
    {
        var accelerator = fixture.Require();
        var sampler = new LatentSamplerIlgpu(accelerator);
        using var dx = accelerator.Allocate1D(x);                               // [N, C, H, W]
        // ILGPU 1.5.3 throws NullReferenceException allocating a buffer from an empty array: pass ArrayView.Empty instead.
        using var dEpsU = epsUncond is null ? null : accelerator.Allocate1D(epsUncond);  // [N, C, H, W] or absent
        using var dEpsC = accelerator.Allocate1D(epsCond);                                // [N, C, H, W]
        using var dNoise = noise is null ? null : accelerator.Allocate1D(noise);          // [N, C, H, W] or absent
        using var dNext = accelerator.Allocate1D<float>(x.Length);              // [N, C, H, W]
        using var dX0 = accelerator.Allocate1D<float>(x.Length);                // [N, C, H, W]
        sampler.Launch(dx.View, dEpsU?.View ?? ArrayView<float>.Empty, dEpsC.View, dNoise?.View ?? ArrayView<float>.Empty, dNext.View, dX0.View, step);
        accelerator.Synchronize();
        return (dNext.GetAsArray1D(), dX0.GetAsArray1D());
    }

    // ---- steps from plain coefficients: x̂0 = X0FromX·x + X0FromEps·ε̂, x' = A·x + B·ε̂ + C·noise -------------------------
    // Two latent conventions: VP ("DDPM") space x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε (Ho et al. 2020 Eq. 4) for the student and DDIM;
    // sigma space x = x0 + σ·ε, σ_t = √((1−ᾱ_t)/ᾱ_t) (Karras et al. 2022, Sec. 2 and Table 1) for Euler and Euler ancestral.

    /// <summary>Float step from double coefficients, rounded once as the engine rounds them.</summary>
    private static LatentSamplerStep Coefficients(double a, double b, double c, double x0FromX, double x0FromEps) =>
        new((float)a, (float)b, (float)c, (float)x0FromX, (float)x0FromEps);

    /// <summary>ADD student (Sauer et al. 2023, Sec. 3), VP space: x̂0 = (x_t − √(1−ᾱ)·ε̂)/√ᾱ, x' = √ᾱ'·x̂0 + √(1−ᾱ')·noise.</summary>
    private static LatentSamplerStep StudentRenoise(double alphaBar, double alphaBarNext)
    {
        double x0x = 1 / Math.Sqrt(alphaBar), x0e = -Math.Sqrt((1 - alphaBar) / alphaBar);
        return Coefficients(Math.Sqrt(alphaBarNext) * x0x, Math.Sqrt(alphaBarNext) * x0e, Math.Sqrt(1 - alphaBarNext), x0x, x0e);
    }

    /// <summary>DDIM η = 0 (Song et al. 2021, Eq. 12), VP space: x' = √ᾱ'·x̂0 + √(1−ᾱ')·ε̂.</summary>
    private static LatentSamplerStep Ddim(double alphaBar, double alphaBarNext)
    {
        double x0x = 1 / Math.Sqrt(alphaBar), x0e = -Math.Sqrt((1 - alphaBar) / alphaBar);
        return Coefficients(Math.Sqrt(alphaBarNext) * x0x, Math.Sqrt(alphaBarNext) * x0e + Math.Sqrt(1 - alphaBarNext), 0, x0x, x0e);
    }

    /// <summary>Euler on dx/dσ = (x − x̂0)/σ (Karras et al. 2022, Alg. 1 first order), sigma space: x̂0 = x − σ·ε̂, x' = x + (σ' − σ)·ε̂.</summary>
    private static LatentSamplerStep Euler(double sigma, double sigmaNext) => Coefficients(1, sigmaNext - sigma, 0, 1, -sigma);

    /// <summary>Euler to σ_down, then fresh noise of σ_up: x' = x + (σ_down − σ)·ε̂ + σ_up·noise.</summary>
    private static LatentSamplerStep EulerAncestral(double sigma, double sigmaDown, double sigmaUp) => Coefficients(1, sigmaDown - sigma, sigmaUp, 1, -sigma);

    /// <summary>σ_up = min(σ', η·√(σ'²·(σ² − σ'²)/σ²)), σ_down = √(σ'² − σ_up²): the DDPM ancestral posterior variance
    /// (Ho et al. 2020 Eq. 7) in sigma form, σ_down² + σ_up² = σ'².</summary>
    private static (double SigmaDown, double SigmaUp) AncestralSigmas(double sigma, double sigmaNext, double eta = 1.0)
    {
        double up = Math.Min(sigmaNext, eta * Math.Sqrt(sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext) / (sigma * sigma)));
        return (Math.Sqrt(sigmaNext * sigmaNext - up * up), up);
    }

    /// <summary>ᾱ_t of SD's scaled_linear schedule: β from 0.00085 to 0.012 over 1000 steps, linear in √β.</summary>
    private static double AlphaBar(int t)
    {
        double product = 1;
        double lo = Math.Sqrt(0.00085), hi = Math.Sqrt(0.012);
        for (int i = 0; i <= t; i++)
        {
            double sqrtBeta = lo + (hi - lo) * i / 999.0;
            product *= 1 - sqrtBeta * sqrtBeta;
        }
        return product;
    }

    private static double Sigma(int t) => Math.Sqrt((1 - AlphaBar(t)) / AlphaBar(t));
}

[Collection(IlgpuCpuCollection.Name)]
public sealed class LatentSamplerIlgpuTests(IlgpuCpuFixture fixture, ITestOutputHelper log) : LatentSamplerIlgpuSuite(fixture, log);

[Collection(IlgpuCudaCollection.Name)]
public sealed class LatentSamplerCudaTests(IlgpuCudaFixture fixture, ITestOutputHelper log) : LatentSamplerIlgpuSuite(fixture, log);

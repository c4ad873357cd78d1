using Add.Engine.Configs;
using Add.Engine.Sampling;
using static Add.Tests.Sampling.ScheduleValues;

namespace Add.Tests.Sampling;

/// <summary>
/// The engine's <see cref="SamplingSchedule"/> (diffusers' set_timesteps, sigmas, init_noise_sigma, scale_model_input,
/// and the step coefficients in DDPM space) against values computed here from diffusers' formulas in plain double math
/// (scheduling_euler_discrete.py, scheduling_euler_ancestral_discrete.py, scheduling_ddim.py @58eb52c).
/// </summary>
public sealed class SamplingScheduleTests
{
    /// <summary>Both sides are float64 of the same ᾱ; the engine goes through ᾱ = 1/(1 + σ²) and back: a few ulp.</summary>
    private const double Rel = 1e-12;

    private static readonly NoiseSchedule SdSchedule = new(Sd);
    private static readonly double[] SdAlphas = AlphasCumprod(Sd), SdSigmas = Sigmas(Sd);

    private static SamplingSchedule Make(SchedulerConfig c, SamplerKind kind, int steps) => SamplingSchedule.Create(c, new NoiseSchedule(c), kind, steps);

    private static void AssertAllClose(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Rel * Math.Max(1, Math.Abs(expected[i])), $"{what}[{i}]: expected {expected[i]:R}, actual {actual[i]:R}");
    }

    [Theory]
    [InlineData(1, new double[] { 999 })]
    [InlineData(2, new double[] { 999, 499 })]
    [InlineData(3, new double[] { 999, 666, 332 })]
    [InlineData(4, new double[] { 999, 749, 499, 249 })]
    [InlineData(16, new double[] { 999, 937, 874, 811, 749, 687, 624, 561, 499, 437, 374, 311, 249, 187, 124, 61 })]   // x.5 rounds to even
    [InlineData(48, new double[] { 999, 978, 957, 936, 916, 895, 874, 853, 832, 811, 791, 770, 749, 728, 707, 686, 666, 645, 624, 603, 582,
        561, 541, 520, 499, 478, 457, 436, 416, 395, 374, 353, 332, 311, 291, 270, 249, 228, 207, 186, 166, 145, 124, 103, 82, 61, 41, 20 })]   // numpy's arange: 937.4999… → 936
    public void EulerTrailingTimestepsAndSigmas(int steps, double[] expected)
    {
        var s = SamplingSchedule.Create(Sd with { TimestepSpacing = "trailing", StepsOffset = 1 }, SdSchedule, SamplerKind.Euler, steps);
        Assert.Equal(expected, s.Timesteps);
        AssertAllClose([.. expected.Select(t => SdSigmas[(int)t]), 0], s.Sigmas, "σ");
        Assert.Equal(1.0, s.NextAlphaBars[^1]);
    }

    [Fact]
    public void TrailingFourSigmasAreSdTurbos()
    {
        var s = SamplingSchedule.Create(Sd with { TimestepSpacing = "trailing" }, SdSchedule, SamplerKind.Euler, 4);
        AssertAllClose([.. SdTrailing4Sigmas, 0], s.Sigmas, "σ");
        Assert.Equal(14.614641, s.Sigmas[0], 6);
        Assert.Equal([14.61464, 4.08173, 1.61289, 0.6932, 0], s.Sigmas.Select(v => Math.Round(v, v > 1 ? 5 : 4)));
    }

    /// <summary>Every step count gives N timesteps (numpy's arange would give N + 1 for e.g. N = 61), each the closed
    /// form round(T − i·T/N) − 1.</summary>
    [Fact]
    public void TrailingHasExactlyNTimestepsForEveryN()
    {
        for (int n = 1; n <= 1000; n++)
        {
            var t = SamplingSchedule.DiffusersTimesteps("trailing", 1000, n, 0, roundLinspace: false);
            Assert.Equal(n, t.Length);
            Assert.Equal(999, t[0]);
            Assert.True(t[^1] >= 0 && t.Zip(t.Skip(1), (a, b) => a > b).All(x => x), $"N = {n}: [{string.Join(", ", t)}]");
        }
    }

    /// <summary>DDIM, leading, steps_offset 1 (Stable Diffusion's DDIM config): 981, 961, …, 1; prev_timestep = t − 20;
    /// the last step goes to final_alpha_cumprod (1 with set_alpha_to_one, else ᾱ_0). init_noise_sigma 1.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DdimLeadingFiftyStepsWithOffsetOne(bool setAlphaToOne)
    {
        var c = Sd with { ClassName = SchedulerConfig.Ddim, ClipSample = false, StepsOffset = 1, SetAlphaToOne = setAlphaToOne };
        var s = SamplingSchedule.Create(c, SdSchedule, SamplerKind.Ddim, 50);
        var expected = Enumerable.Range(0, 50).Select(i => 981.0 - 20 * i).ToArray();
        Assert.Equal(expected, s.Timesteps);
        Assert.Equal(1.0, s.Timesteps[^1]);
        AssertAllClose(expected.Select(t => SdAlphas[(int)t]).ToArray(), s.AlphaBars, "ᾱ");
        AssertAllClose([.. expected[1..].Select(t => SdAlphas[(int)t]), setAlphaToOne ? 1 : SdAlphas[0]], s.NextAlphaBars, "ᾱ_prev");
        Assert.Equal(1.0, s.InitNoiseSigma);
        Assert.Equal(1.0, s.InitialNoiseScale);
        Assert.All(Enumerable.Range(0, 50), i => Assert.Equal(1.0, s.ModelInputScale(i)));
        Assert.False(s.SigmaSpace);
    }

    /// <summary>DDIM's prev_timestep is t − T//N, not the next listed timestep: trailing 3 steps 999, 666, 332 step to
    /// 666, 333, final.</summary>
    [Fact]
    public void DdimStepsToTMinusTOverN()
    {
        var c = Sd with { ClassName = SchedulerConfig.Ddim, ClipSample = false, TimestepSpacing = "trailing" };
        var s = SamplingSchedule.Create(c, SdSchedule, SamplerKind.Ddim, 3);
        Assert.Equal([999.0, 666, 332], s.Timesteps);
        AssertAllClose([SdAlphas[666], SdAlphas[333], 1], s.NextAlphaBars, "ᾱ_prev");
        // The re-noising sampler on the same config goes to the next listed timestep instead.
        var renoise = SamplingSchedule.Create(c, SdSchedule, SamplerKind.StudentRenoise, 3);
        AssertAllClose([SdAlphas[666], SdAlphas[332], 1], renoise.NextAlphaBars, "ᾱ_next");
    }

    /// <summary>linspace: the Euler classes keep numpy's fractional float32 timesteps and interpolate σ there; DDIM rounds
    /// (half to even).</summary>
    [Fact]
    public void LinspaceGivesFractionalTimestepsForEuler()
    {
        var s = SamplingSchedule.Create(Sd, SdSchedule, SamplerKind.Euler, 7);     // Euler's default spacing is linspace
        Assert.Equal([999.0, 832.5, 666, 499.5, 333, 166.5, 0], s.Timesteps);
        double Mid(int t) => (SdSigmas[t] + SdSigmas[t + 1]) / 2;
        AssertAllClose([SdSigmas[999], Mid(832), SdSigmas[666], Mid(499), SdSigmas[333], Mid(166), SdSigmas[0], 0], s.Sigmas, "σ");
        var ddim = SamplingSchedule.Create(Sd with { ClassName = SchedulerConfig.Ddim, ClipSample = false, TimestepSpacing = "linspace" }, SdSchedule, SamplerKind.Ddim, 7);
        Assert.Equal([999.0, 832, 666, 500, 333, 166, 0], ddim.Timesteps);
        Assert.Equal([0.0], SamplingSchedule.Create(Sd, SdSchedule, SamplerKind.Euler, 1).Timesteps);    // numpy linspace(0, 999, 1) = [0]
        // A non-representable fraction is numpy's float32: linspace(0, 999, 4) is exact, 999/998·k is not.
        var t = SamplingSchedule.DiffusersTimesteps("linspace", 1000, 999, 0, roundLinspace: false);
        Assert.Equal((double)(float)(997 * (999.0 / 998)), t[1]);
    }

    /// <summary>init_noise_sigma: max σ for linspace/trailing (14.6146), √(max σ² + 1) for leading (14.6488 when the
    /// run starts at 999: 500 steps with offset 1); the engine's x_T = init_noise_sigma·scale_model_input(0)·noise.</summary>
    [Fact]
    public void InitNoiseSigmaPerSpacing()
    {
        double s999 = SdSigmas[999];
        var trailing = SamplingSchedule.Create(Sd with { TimestepSpacing = "trailing" }, SdSchedule, SamplerKind.Euler, 1);
        Assert.Equal(s999, trailing.InitNoiseSigma, Rel);
        Assert.Equal(14.6146, trailing.InitNoiseSigma, 4);
        Assert.Equal(s999 / Math.Sqrt(s999 * s999 + 1), trailing.InitialNoiseScale, Rel);
        Assert.Equal(Math.Sqrt(1 - SdAlphas[999]), trailing.InitialNoiseScale, Rel);
        var linspace = SamplingSchedule.Create(Sd, SdSchedule, SamplerKind.EulerAncestral, 4);
        Assert.Equal(s999, linspace.InitNoiseSigma, Rel);
        var leading = SamplingSchedule.Create(Sd with { TimestepSpacing = "leading", StepsOffset = 1 }, SdSchedule, SamplerKind.Euler, 500);
        Assert.Equal(999.0, leading.Timesteps[0]);
        Assert.Equal(Math.Sqrt(s999 * s999 + 1), leading.InitNoiseSigma, Rel);
        Assert.Equal(14.6488, leading.InitNoiseSigma, 4);
        Assert.Equal(1.0, leading.InitialNoiseScale, Rel);
        // Leading 50 steps start at 981: init_noise_sigma is the run's own max σ, σ(981).
        var leading50 = SamplingSchedule.Create(Sd with { TimestepSpacing = "leading", StepsOffset = 1 }, SdSchedule, SamplerKind.Euler, 50);
        Assert.Equal(Math.Sqrt(SdSigmas[981] * SdSigmas[981] + 1), leading50.InitNoiseSigma, Rel);
    }

    /// <summary>scale_model_input: x̃/√(σ² + 1); the engine's latent x is that scaled input.</summary>
    [Fact]
    public void ScaleModelInputIsOneOverRootSigmaSquaredPlusOne()
    {
        var s = SamplingSchedule.Create(Sd with { TimestepSpacing = "trailing" }, SdSchedule, SamplerKind.Euler, 4);
        for (int i = 0; i < 4; i++)
            Assert.Equal(1 / Math.Sqrt(SdTrailing4Sigmas[i] * SdTrailing4Sigmas[i] + 1), s.ModelInputScale(i), Rel);
    }

    /// <summary>
    /// One step of each sampler against diffusers' step in its own space, written here: the engine's x' = A·x + B·m + C·n
    /// must equal scale(σ')·step(x̃ = x/scale(σ), m, n). Both prediction types; the v conversions are diffusers':
    /// DDIM x̂0 = √ᾱ·x − √(1−ᾱ)·v, ε̂ = √ᾱ·v + √(1−ᾱ)·x; Euler x̂0 = v·(−σ/√(σ²+1)) + x̃/(σ²+1).
    /// </summary>
    [Theory]
    [InlineData(SamplerKind.Ddim, false)]
    [InlineData(SamplerKind.Ddim, true)]
    [InlineData(SamplerKind.Euler, false)]
    [InlineData(SamplerKind.Euler, true)]
    [InlineData(SamplerKind.EulerAncestral, false)]
    [InlineData(SamplerKind.EulerAncestral, true)]
    [InlineData(SamplerKind.StudentRenoise, false)]
    [InlineData(SamplerKind.StudentRenoise, true)]
    public void StepsMatchDiffusersFormulas(SamplerKind kind, bool v)
    {
        const double x = 0.7, m = -1.3, n = 0.4;
        foreach (var (t, tNext) in new[] { (999, 749), (749, 499), (249, -1), (500, 480) })
        {
            double a = SdAlphas[t], aN = tNext < 0 ? 1 : SdAlphas[tNext];
            double s = SdSigmas[t], sN = tNext < 0 ? 0 : SdSigmas[tNext];
            double expected, expectedX0;
            if (kind == SamplerKind.Ddim)
            {
                expectedX0 = v ? Math.Sqrt(a) * x - Math.Sqrt(1 - a) * m : (x - Math.Sqrt(1 - a) * m) / Math.Sqrt(a);
                double eps = v ? Math.Sqrt(a) * m + Math.Sqrt(1 - a) * x : m;
                expected = Math.Sqrt(aN) * expectedX0 + Math.Sqrt(1 - aN) * eps;
            }
            else
            {
                double xs = x * Math.Sqrt(s * s + 1);                                  // diffusers' σ-space latent
                double x0 = v ? m * (-s / Math.Sqrt(s * s + 1)) + xs / (s * s + 1) : xs - s * m;
                double d = (xs - x0) / s, next;
                if (kind == SamplerKind.Euler) next = xs + (sN - s) * d;
                else if (kind == SamplerKind.EulerAncestral)
                {
                    double up = Math.Sqrt(sN * sN * (s * s - sN * sN) / (s * s)), down = Math.Sqrt(sN * sN - up * up);
                    next = xs + (down - s) * d + up * n;
                }
                else next = x0 + sN * n;                                              // re-noise in σ-space
                expected = next / Math.Sqrt(sN * sN + 1);
                expectedX0 = x0;
            }
            var c = SamplerStep.Create(kind, a, aN, v);
            Assert.Equal(expected, c.A * x + c.B * m + c.C * n, 1e-12);
            Assert.Equal(expectedX0, c.X0FromX * x + c.X0FromEps * m, 1e-12);
        }
    }

    /// <summary>Euler-ancestral's σ_up / σ_down on SD-Turbo's 4 trailing steps: C = √ᾱ'·σ_up, and no noise on the last.</summary>
    [Fact]
    public void EulerAncestralSigmaUpAndDown()
    {
        var sched = SamplingSchedule.Create(Sd with { ClassName = SchedulerConfig.EulerAncestralDiscrete, TimestepSpacing = "trailing" }, SdSchedule, SamplerKind.EulerAncestral, 4);
        double[] sg = [.. SdTrailing4Sigmas, 0];
        for (int i = 0; i < 4; i++)
        {
            double s = sg[i], sN = sg[i + 1];
            double up = Math.Sqrt(sN * sN * (s * s - sN * sN) / (s * s)), down = Math.Sqrt(sN * sN - up * up);
            var c = sched.Step(i);
            Assert.Equal(up / Math.Sqrt(sN * sN + 1), c.C, 1e-12);
            Assert.Equal((down - s) / Math.Sqrt(sN * sN + 1), c.B, 1e-12);
        }
        Assert.Equal(0, sched.Step(3).C);
    }

    /// <summary>
    /// sd-turbo.md §2.1, the 1-step SD-Turbo math, in float32 as diffusers runs it: latents = N(0,1)·14.6146;
    /// eps = UNet(latents/14.6488, 999); x0 = latents − 14.6146·eps. The engine (DDPM space, float kernels) gives the
    /// same UNet input and x0 to float rounding.
    /// </summary>
    [Fact]
    public void OneStepSdTurboMatchesDiffusers()
    {
        var config = SchedulerConfigTests.Load(SchedulerConfigTests.SdTurbo);
        var s = SamplingSchedule.Create(config, new NoiseSchedule(config), config.DefaultSampler, 1);
        Assert.Equal([999.0], s.Timesteps);
        float sigma = (float)SdSigmas[999], scale = (float)Math.Sqrt((double)sigma * sigma + 1);
        var random = new Random(5);
        var k = s.Step(0).ToKernelStep();
        for (int i = 0; i < 1000; i++)
        {
            float noise = (float)(random.NextDouble() * 6 - 3), eps = (float)(random.NextDouble() * 6 - 3);
            float latents = noise * sigma;                       // diffusers, float32
            float unetIn = latents / scale, x0 = latents - sigma * eps;
            float x = (float)s.InitialNoiseScale * noise;         // the engine
            float engineX0 = k.NextFromX * x + k.NextFromEps * eps;
            Assert.Equal(unetIn, x, Fp32 * Math.Max(1, Math.Abs(unetIn)));
            Assert.Equal(x0, engineX0, Fp32 * 16 * Math.Max(1, Math.Abs(x0)));
        }
    }

    /// <summary>A few float32 ulp of O(1) values; x0 sums terms up to 14.6·3 ≈ 44 that cancel (16× the ulp of 1).</summary>
    private const float Fp32 = 4e-7f;

    [Fact]
    public void LeadingOffsetBeyondTheTrainingTimestepsIsRefused()
    {
        var c = Sd with { TimestepSpacing = "leading", StepsOffset = 1 };
        var e = Assert.Throws<ArgumentException>(() => SamplingSchedule.Create(c, SdSchedule, SamplerKind.Euler, 1000));
        Assert.Contains("steps_offset 1", e.Message);
        Assert.Throws<ArgumentException>(() => SamplingSchedule.Create(c, SdSchedule, SamplerKind.Euler, 1001));
    }

    [Fact]
    public void SkipKeepsTheTailAndItsLevels()
    {
        var c = Sd with { ClassName = SchedulerConfig.Ddim, ClipSample = false, TimestepSpacing = "trailing" };
        var full = SamplingSchedule.Create(c, SdSchedule, SamplerKind.Ddim, 4);
        var tail = full.Skip(2);
        Assert.Equal([499.0, 249], tail.Timesteps);
        Assert.Equal(full.NextAlphaBars[2..], tail.NextAlphaBars);
        Assert.Equal(4, tail.Steps);
    }
}

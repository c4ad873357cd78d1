using Add.Engine.Configs;
using Add.Engine.Sampling;

namespace Add.Tests.Sampling;

/// <summary>scheduler_config.json as diffusers writes it: the real turbo configs load, diffusers' defaults fill absent
/// keys, and every value that would change the math without being implemented is an error naming key and value.</summary>
public sealed class SchedulerConfigTests
{
    /// <summary>stabilityai/sd-turbo scheduler/scheduler_config.json, verbatim (/work/shared/reference/sd-turbo.md §1.3).</summary>
    public const string SdTurbo = """
        {
          "_class_name": "EulerDiscreteScheduler",
          "_diffusers_version": "0.24.0.dev0",
          "beta_end": 0.012,
          "beta_schedule": "scaled_linear",
          "beta_start": 0.00085,
          "clip_sample": false,
          "interpolation_type": "linear",
          "num_train_timesteps": 1000,
          "prediction_type": "epsilon",
          "sample_max_value": 1.0,
          "set_alpha_to_one": false,
          "sigma_max": null,
          "sigma_min": null,
          "skip_prk_steps": true,
          "steps_offset": 1,
          "timestep_spacing": "trailing",
          "timestep_type": "discrete",
          "trained_betas": null,
          "use_karras_sigmas": false
        }
        """;

    /// <summary>stabilityai/sdxl-turbo scheduler/scheduler_config.json, verbatim (sd-turbo.md §1.1).</summary>
    public const string SdxlTurbo = """
        {
          "_class_name": "EulerAncestralDiscreteScheduler",
          "_diffusers_version": "0.24.0.dev0",
          "beta_end": 0.012,
          "beta_schedule": "scaled_linear",
          "beta_start": 0.00085,
          "clip_sample": false,
          "interpolation_type": "linear",
          "num_train_timesteps": 1000,
          "prediction_type": "epsilon",
          "sample_max_value": 1.0,
          "set_alpha_to_one": false,
          "skip_prk_steps": true,
          "steps_offset": 1,
          "timestep_spacing": "trailing",
          "trained_betas": null
        }
        """;

    public static SchedulerConfig Load(string json, List<string>? warnings = null)
    {
        using var dir = new TempDir();
        var path = dir.File("scheduler_config.json");
        File.WriteAllText(path, json);
        return ConfigJson.Load<SchedulerConfig>(path, warnings is null ? null : warnings.Add);
    }

    [Fact]
    public void TheTurboConfigsLoadWithoutWarnings()
    {
        var warnings = new List<string>();
        var sd = Load(SdTurbo, warnings);
        Assert.Equal((SamplerKind.Euler, "trailing", 1, false), (sd.ClassKind, sd.Spacing, sd.StepsOffset, sd.VPrediction));
        Assert.Equal(("scaled_linear", 0.00085, 0.012), (sd.BetaSchedule, sd.BetaStart, sd.BetaEnd));
        var sdxl = Load(SdxlTurbo, warnings);
        Assert.Equal((SamplerKind.EulerAncestral, SamplerKind.EulerAncestral), (sdxl.ClassKind, sdxl.DefaultSampler));
        Assert.Empty(warnings);
    }

    [Fact]
    public void AbsentKeysTakeDiffusersDefaults()
    {
        var euler = Load("""{"_class_name": "EulerDiscreteScheduler"}""");
        Assert.Equal(("linear", 0.0001, 0.02, 1000, "linspace", 0), (euler.BetaSchedule, euler.BetaStart, euler.BetaEnd, euler.NumTrainTimesteps, euler.Spacing, euler.StepsOffset));
        var ancestral = Load("""{"_class_name": "EulerAncestralDiscreteScheduler"}""");
        Assert.Equal("linspace", ancestral.Spacing);
        var ddim = Load("""{"_class_name": "DDIMScheduler", "clip_sample": false}""");
        Assert.Equal(("leading", true, SamplerKind.Ddim), (ddim.Spacing, ddim.FinalAlphaIsOne, ddim.DefaultSampler));
    }

    [Fact]
    public void VPredictionAndOurKeysAreAccepted()
    {
        var v = Load("""{"_class_name": "EulerDiscreteScheduler", "prediction_type": "v_prediction", "add_sampler": "student-renoise", "add_default_steps": 4, "add_default_guidance": 2.5}""");
        Assert.True(v.VPrediction);
        Assert.Equal((SamplerKind.StudentRenoise, 4, 2.5), (v.DefaultSampler, v.AddDefaultSteps, v.AddDefaultGuidance));
    }

    [Fact]
    public void TheShippedConfigsLoad()
    {
        var root = Fixtures.Root;
        var student = ConfigJson.Load<SchedulerConfig>(Path.Combine(root, "models", "add-emoji-32", "scheduler", "scheduler_config.json"));
        Assert.Equal(SchedulerConfig.EmojiStudent, student with { Extra = null });
        var teacher = ConfigJson.Load<SchedulerConfig>(Path.Combine(root, "models", "emoji-32-teacher", "scheduler", "scheduler_config.json"));
        Assert.Equal(SchedulerConfig.EmojiTeacher, teacher with { Extra = null });
    }

    [Theory]
    [InlineData("""{"_class_name": "PNDMScheduler"}""", "_class_name 'PNDMScheduler'")]
    [InlineData("""{"_class_name": "LCMScheduler"}""", "_class_name 'LCMScheduler'")]
    [InlineData("""{"_class_name": "DDIMScheduler", "clip_sample": true}""", "clip_sample true")]
    [InlineData("""{"_class_name": "DDIMScheduler"}""", "clip_sample is absent")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "clip_sample": true}""", "clip_sample true")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "use_karras_sigmas": true}""", "use_karras_sigmas true")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "use_exponential_sigmas": true}""", "use_exponential_sigmas true")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "interpolation_type": "log_linear"}""", "interpolation_type 'log_linear'")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "timestep_type": "continuous"}""", "timestep_type 'continuous'")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "sigma_min": 0.02}""", "sigma_min 0.02")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "sigma_max": 80}""", "sigma_max 80")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "trained_betas": [0.1, 0.2]}""", "trained_betas")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "prediction_type": "sample"}""", "prediction_type 'sample'")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "beta_schedule": "squaredcos_cap_v2"}""", "beta_schedule 'squaredcos_cap_v2'")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "timestep_spacing": "karras"}""", "timestep_spacing 'karras'")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "rescale_betas_zero_snr": true}""", "rescale_betas_zero_snr true")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "final_sigmas_type": "sigma_min"}""", "final_sigmas_type 'sigma_min'")]
    [InlineData("""{"_class_name": "DDIMScheduler", "clip_sample": false, "thresholding": true}""", "thresholding true")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "add_sampler": "heun"}""", "add_sampler 'heun'")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "add_default_steps": 0}""", "add_default_steps 0")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "add_default_steps": 5, "add_max_steps": 4}""", "add_default_steps 5 must be in 1..4")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "add_max_steps": 1001}""", "add_max_steps 1001")]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler", "steps_offset": -1}""", "steps_offset -1")]
    [InlineData("""{"num_train_timesteps": 1000}""", "_class_name")]
    public void UnsupportedValuesNameKeyAndValue(string json, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => Load(json));
        Assert.Contains(expected, e.Message);
        Assert.Contains("scheduler_config.json", e.Message);
    }
}

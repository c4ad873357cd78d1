using System.Text.Json;
using System.Text.Json.Serialization;
using Add.Engine.Sampling;

namespace Add.Engine.Configs;

/// <summary>
/// scheduler/scheduler_config.json as diffusers writes it: <c>_class_name</c> picks EulerDiscreteScheduler,
/// EulerAncestralDiscreteScheduler or DDIMScheduler; the other keys are those classes' constructor parameters, with
/// diffusers' defaults when absent (beta_schedule "linear" 1e-4 → 0.02, timestep_spacing "linspace" for the Euler
/// classes and "leading" for DDIM, steps_offset 0, set_alpha_to_one true, DDIM's clip_sample true). A key whose value
/// would change the math and is not implemented (clip_sample true, use_karras_sigmas true, interpolation_type
/// "log_linear", trained_betas, …) is an error naming the key and the value. Informational keys (sample_max_value,
/// skip_prk_steps, _diffusers_version, …) are accepted.
/// <para>
/// Keys of ours, all optional (README "Scheduler configs"): <c>add_sampler</c> (ddim, euler, euler-ancestral,
/// student-renoise: the default sampler instead of the class's own), <c>add_default_steps</c>,
/// <c>add_default_guidance</c>, <c>add_max_steps</c> (our student: 4, its training timesteps). Without them a "trailing" config defaults to 1 step without guidance (the SD-Turbo
/// convention), any other to diffusers' pipeline defaults, 50 steps at guidance 7.5.
/// </para>
/// </summary>
public sealed record SchedulerConfig : ConfigBase
{
    /// <summary>The scheduler classes implemented, by their diffusers names.</summary>
    public const string EulerDiscrete = "EulerDiscreteScheduler", EulerAncestralDiscrete = "EulerAncestralDiscreteScheduler", Ddim = "DDIMScheduler";

    /// <summary>diffusers' class; required (diffusers always writes it).</summary>
    [JsonPropertyName("_class_name"), JsonRequired] public string ClassName { get; init; } = EulerDiscrete;
    [JsonPropertyName("num_train_timesteps")] public int NumTrainTimesteps { get; init; } = 1000;
    [JsonPropertyName("beta_start")] public double BetaStart { get; init; } = 0.0001;
    [JsonPropertyName("beta_end")] public double BetaEnd { get; init; } = 0.02;
    /// <summary>scaled_linear: β_t = (√β_start + t/(T−1)·(√β_end − √β_start))² (Stable Diffusion); linear: β_start + t/(T−1)·(β_end − β_start).</summary>
    [JsonPropertyName("beta_schedule")] public string BetaSchedule { get; init; } = "linear";
    /// <summary>Only null: betas given as a list are not implemented.</summary>
    [JsonPropertyName("trained_betas")] public JsonElement? TrainedBetas { get; init; }
    /// <summary>What the UNet predicts: "epsilon" (ε) or "v_prediction" (v = √ᾱ·ε − √(1−ᾱ)·x0, Salimans &amp; Ho 2022 §4).</summary>
    [JsonPropertyName("prediction_type")] public string PredictionType { get; init; } = "epsilon";
    /// <summary>leading, linspace or trailing (Lin et al. 2024, Table 2); null: the class's default (<see cref="Spacing"/>).</summary>
    [JsonPropertyName("timestep_spacing")] public string? TimestepSpacing { get; init; }
    /// <summary>Added to "leading" timesteps (SD uses 1).</summary>
    [JsonPropertyName("steps_offset")] public int StepsOffset { get; init; }
    /// <summary>DDIM: ᾱ after the last step is 1 (true) or ᾱ_0 (false). Informational for the Euler classes.</summary>
    [JsonPropertyName("set_alpha_to_one")] public bool? SetAlphaToOne { get; init; }
    /// <summary>Only false (clipping x̂0 is not implemented); absent means true for DDIM, as diffusers.</summary>
    [JsonPropertyName("clip_sample")] public bool? ClipSample { get; init; }
    [JsonPropertyName("thresholding")] public bool? Thresholding { get; init; }
    [JsonPropertyName("interpolation_type")] public string? InterpolationType { get; init; }
    [JsonPropertyName("use_karras_sigmas")] public bool? UseKarrasSigmas { get; init; }
    [JsonPropertyName("use_exponential_sigmas")] public bool? UseExponentialSigmas { get; init; }
    [JsonPropertyName("use_beta_sigmas")] public bool? UseBetaSigmas { get; init; }
    [JsonPropertyName("sigma_min")] public double? SigmaMin { get; init; }
    [JsonPropertyName("sigma_max")] public double? SigmaMax { get; init; }
    [JsonPropertyName("timestep_type")] public string? TimestepType { get; init; }
    [JsonPropertyName("rescale_betas_zero_snr")] public bool? RescaleBetasZeroSnr { get; init; }
    [JsonPropertyName("final_sigmas_type")] public string? FinalSigmasType { get; init; }

    // Informational: used only by features that are refused above (clipping, thresholding) or by other classes (PNDM).
    [JsonPropertyName("sample_max_value")] public double? SampleMaxValue { get; init; }
    [JsonPropertyName("clip_sample_range")] public double? ClipSampleRange { get; init; }
    [JsonPropertyName("dynamic_thresholding_ratio")] public double? DynamicThresholdingRatio { get; init; }
    [JsonPropertyName("skip_prk_steps")] public bool? SkipPrkSteps { get; init; }

    /// <summary>Ours: the default sampler by its command-line name (<see cref="SamplerNames"/>); null: the class's.</summary>
    [JsonPropertyName("add_sampler")] public string? AddSampler { get; init; }
    /// <summary>Ours: the default number of steps.</summary>
    [JsonPropertyName("add_default_steps")] public int? AddDefaultSteps { get; init; }
    /// <summary>Ours: the default classifier-free guidance scale (≤ 1: off).</summary>
    [JsonPropertyName("add_default_guidance")] public double? AddDefaultGuidance { get; init; }
    /// <summary>Ours: the most steps a request may ask for (null: num_train_timesteps).</summary>
    [JsonPropertyName("add_max_steps")] public int? AddMaxSteps { get; init; }

    /// <summary>The most steps a request may ask for: <see cref="AddMaxSteps"/>, else num_train_timesteps.</summary>
    [JsonIgnore] public int MaxSteps => AddMaxSteps ?? NumTrainTimesteps;

    /// <summary>The update rule of <see cref="ClassName"/>.</summary>
    [JsonIgnore] public SamplerKind ClassKind => ClassName switch
    {
        Ddim => SamplerKind.Ddim,
        EulerAncestralDiscrete => SamplerKind.EulerAncestral,
        EulerDiscrete => SamplerKind.Euler,
        _ => throw new InvalidDataException(UnsupportedClass),
    };

    /// <summary>The sampler a request without one runs: <see cref="AddSampler"/>, else the class's.</summary>
    [JsonIgnore] public SamplerKind DefaultSampler => AddSampler is null ? ClassKind : SamplerNames.Parse(AddSampler);

    /// <summary>timestep_spacing with the class's default: "leading" for DDIMScheduler, "linspace" for the Euler classes.</summary>
    [JsonIgnore] public string Spacing => TimestepSpacing ?? (ClassName == Ddim ? "leading" : "linspace");

    /// <summary>DDIM's final ᾱ is 1 (set_alpha_to_one, default true).</summary>
    [JsonIgnore] public bool FinalAlphaIsOne => SetAlphaToOne ?? true;

    [JsonIgnore] public bool VPrediction => PredictionType == "v_prediction";

    private string UnsupportedClass => $"_class_name '{ClassName}' is not supported ({EulerDiscrete}, {EulerAncestralDiscrete}, {Ddim})";

    /// <summary>Our emoji teacher: Stable Diffusion's schedule, DDIM with trailing spacing (x̂0 after the last step),
    /// 50 steps at guidance 4 by default.</summary>
    public static SchedulerConfig EmojiTeacher => new()
    {
        ClassName = Ddim, BetaSchedule = "scaled_linear", BetaStart = 0.00085, BetaEnd = 0.012, TimestepSpacing = "trailing",
        SetAlphaToOne = true, ClipSample = false, AddDefaultSteps = 50, AddDefaultGuidance = 4,
    };

    /// <summary>Our ADD student: the teacher's schedule; 1 step of the re-noising sampler without guidance by default,
    /// at most 4 (trailing spacing gives 999 / 999, 499 / 999, 749, 499, 249 for 1 / 2 / 4 steps, its training timesteps).</summary>
    public static SchedulerConfig EmojiStudent => EmojiTeacher with
    {
        AddSampler = SamplerNames.Name(SamplerKind.StudentRenoise), AddDefaultSteps = 1, AddDefaultGuidance = 0, AddMaxSteps = 4,
    };

    public override void Validate()
    {
        ConfigJson.Require(ClassName is EulerDiscrete or EulerAncestralDiscrete or Ddim, UnsupportedClass);
        ConfigJson.Require(NumTrainTimesteps >= 2, $"num_train_timesteps must be at least 2, got {NumTrainTimesteps}");
        ConfigJson.Require(BetaSchedule is "scaled_linear" or "linear", $"beta_schedule '{BetaSchedule}' is not supported (scaled_linear, linear)");
        ConfigJson.Require(0 < BetaStart && BetaStart < BetaEnd && BetaEnd < 1, $"need 0 < beta_start ({BetaStart}) < beta_end ({BetaEnd}) < 1");
        ConfigJson.Require(TrainedBetas is null || TrainedBetas.Value.ValueKind == JsonValueKind.Null, "trained_betas is not supported (only null)");
        ConfigJson.Require(PredictionType is "epsilon" or "v_prediction", $"prediction_type '{PredictionType}' is not supported (epsilon, v_prediction)");
        ConfigJson.Require(Spacing is "leading" or "linspace" or "trailing", $"timestep_spacing '{TimestepSpacing}' is not supported (leading, linspace, trailing)");
        ConfigJson.Require(StepsOffset >= 0 && StepsOffset < NumTrainTimesteps, $"steps_offset {StepsOffset} must be in 0..{NumTrainTimesteps - 1}");
        bool clip = ClipSample ?? ClassName == Ddim;
        ConfigJson.Require(!clip, ClipSample is null
            ? "clip_sample is absent, which means true for DDIMScheduler: clipping x̂0 is not supported (set \"clip_sample\": false)"
            : "clip_sample true is not supported (clipping x̂0; only false)");
        ConfigJson.Require(Thresholding != true, "thresholding true is not supported (only false)");
        ConfigJson.Require(InterpolationType is null or "linear", $"interpolation_type '{InterpolationType}' is not supported (only linear)");
        ConfigJson.Require(UseKarrasSigmas != true, "use_karras_sigmas true is not supported (only false)");
        ConfigJson.Require(UseExponentialSigmas != true, "use_exponential_sigmas true is not supported (only false)");
        ConfigJson.Require(UseBetaSigmas != true, "use_beta_sigmas true is not supported (only false)");
        ConfigJson.Require(SigmaMin is null, $"sigma_min {SigmaMin} is not supported (only null)");
        ConfigJson.Require(SigmaMax is null, $"sigma_max {SigmaMax} is not supported (only null)");
        ConfigJson.Require(TimestepType is null or "discrete", $"timestep_type '{TimestepType}' is not supported (only discrete)");
        ConfigJson.Require(RescaleBetasZeroSnr != true, "rescale_betas_zero_snr true is not supported (only false)");
        ConfigJson.Require(FinalSigmasType is null or "zero", $"final_sigmas_type '{FinalSigmasType}' is not supported (only zero)");
        ConfigJson.Require(AddSampler is null || SamplerNames.TryParse(AddSampler, out _),
            $"add_sampler '{AddSampler}' is not a sampler ({string.Join(", ", SamplerNames.All.Select(s => s.Name))})");
        ConfigJson.Require(AddMaxSteps is null || (AddMaxSteps >= 1 && AddMaxSteps <= NumTrainTimesteps),
            $"add_max_steps {AddMaxSteps} must be in 1..{NumTrainTimesteps}");
        ConfigJson.Require(AddDefaultSteps is null || (AddDefaultSteps >= 1 && AddDefaultSteps <= MaxSteps),
            $"add_default_steps {AddDefaultSteps} must be in 1..{MaxSteps}");
        ConfigJson.Require(AddDefaultGuidance is null || (AddDefaultGuidance >= 0 && double.IsFinite(AddDefaultGuidance.Value)),
            $"add_default_guidance {AddDefaultGuidance} must be a finite number ≥ 0");
    }
}

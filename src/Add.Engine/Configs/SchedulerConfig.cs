using System.Text.Json.Serialization;

namespace Add.Engine.Configs;

/// <summary>
/// scheduler/config.json: the DDPM noise schedule shared by every sampler (diffusers' keys), plus the student's
/// trailing timesteps for ADD models. scaled_linear: β_t = (√β_start + t/(T−1)·(√β_end − √β_start))², ᾱ_t = Π(1 − β_s).
/// </summary>
public sealed record SchedulerConfig : ConfigBase
{
    [JsonPropertyName("num_train_timesteps")] public int NumTrainTimesteps { get; init; } = 1000;
    [JsonPropertyName("beta_start")] public double BetaStart { get; init; } = 0.00085;
    [JsonPropertyName("beta_end")] public double BetaEnd { get; init; } = 0.012;
    [JsonPropertyName("beta_schedule")] public string BetaSchedule { get; init; } = "scaled_linear";
    [JsonPropertyName("prediction_type")] public string PredictionType { get; init; } = "epsilon";
    /// <summary>"teacher" (N-step DDIM/Euler with guidance) or "student" (ADD: 1-4 steps over <see cref="StudentTimesteps"/>).</summary>
    [JsonPropertyName("model_kind")] public string ModelKind { get; init; } = "teacher";
    /// <summary>ADD student training timesteps, highest first; n steps use a trailing subset (DESIGN.md §5).</summary>
    [JsonPropertyName("student_timesteps")] public int[]? StudentTimesteps { get; init; }

    public override void Validate()
    {
        ConfigJson.Require(NumTrainTimesteps >= 2, $"num_train_timesteps must be at least 2, got {NumTrainTimesteps}");
        ConfigJson.Require(BetaSchedule is "scaled_linear" or "linear", $"beta_schedule '{BetaSchedule}' is not supported (scaled_linear, linear)");
        ConfigJson.Require(0 < BetaStart && BetaStart < BetaEnd && BetaEnd < 1, $"need 0 < beta_start ({BetaStart}) < beta_end ({BetaEnd}) < 1");
        ConfigJson.Require(PredictionType == "epsilon", $"prediction_type '{PredictionType}' is not supported (epsilon)");
        ConfigJson.Require(ModelKind is "teacher" or "student", $"model_kind must be 'teacher' or 'student', got '{ModelKind}'");
        if (ModelKind == "student")
            ConfigJson.Require(StudentTimesteps is { Length: > 0 } ts && ts.All(t => t >= 0 && t < NumTrainTimesteps),
                "a student scheduler needs student_timesteps within [0, num_train_timesteps)");
    }
}

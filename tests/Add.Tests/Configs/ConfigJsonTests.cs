using Add.Engine.Configs;

namespace Add.Tests.Configs;

/// <summary><see cref="ConfigJson"/>: round trips, unknown keys reported, every error naming the file and the key.</summary>
public sealed class ConfigJsonTests
{
    [Fact]
    public void SaveLoadRoundTrips()
    {
        using var dir = new TempDir();
        var scheduler = new SchedulerConfig { NumTrainTimesteps = 500, BetaStart = 0.001, BetaSchedule = "linear", AddSampler = "student-renoise", AddDefaultSteps = 2 };
        ConfigJson.Save(scheduler, dir.File("sub/scheduler_config.json"));
        var loaded = ConfigJson.Load<SchedulerConfig>(dir.File("sub/scheduler_config.json"));
        Assert.Equal(scheduler, loaded with { Extra = null });

        var unet = new UNet2DConditionConfig
        {
            SampleSize = 8, BlockOutChannels = [16, 32], DownBlockTypes = ["CrossAttnDownBlock2D", "DownBlock2D"], UpBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D"],
            NormNumGroups = 8, AttentionHeadDim = 2, CrossAttentionDim = 12,
        };
        ConfigJson.Save(unet, dir.File("unet.json"));
        var unetLoaded = ConfigJson.Load<UNet2DConditionConfig>(dir.File("unet.json"));
        Assert.Equal(unet.BlockOutChannels, unetLoaded.BlockOutChannels);
        Assert.Equal(File.ReadAllText(dir.File("unet.json")), Resave(unetLoaded, dir.File("unet2.json")));
    }

    private static string Resave<T>(T config, string path) where T : ConfigBase
    {
        ConfigJson.Save(config, path);
        return File.ReadAllText(path);
    }

    [Fact]
    public void UnknownKeysAreReportedAndBookkeepingKeysAreNot()
    {
        using var dir = new TempDir();
        var path = dir.File("scheduler_config.json");
        File.WriteAllText(path, """{"_class_name": "EulerDiscreteScheduler", "num_train_timesteps": 1000, "timestep_spacing": "trailing", "sigma_schedule": 1, "variance_type": "fixed_small"}""");
        var warnings = new List<string>();
        var config = ConfigJson.Load<SchedulerConfig>(path, warnings.Add);
        Assert.Equal(1000, config.NumTrainTimesteps);
        Assert.Equal(2, warnings.Count);
        Assert.All(warnings, w => Assert.Contains(path, w));
        Assert.Contains(warnings, w => w.Contains("'sigma_schedule'"));
        Assert.Contains(warnings, w => w.Contains("'variance_type'"));
        Assert.DoesNotContain(warnings, w => w.Contains("_class_name"));
    }

    /// <summary>Every failure is an InvalidDataException (or FileNotFound) naming the file and the offending key.</summary>
    [Theory]
    [InlineData("""{"num_train_timesteps": 1000}""", "_class_name")]                         // a required key
    [InlineData("""{"_class_name": "DDIMScheduler", "num_train_timesteps": "many"}""", "num_train_timesteps")]   // wrong type
    [InlineData("""{"_class_name": "DDIMScheduler", "beta_start": 0.02, "beta_end": 0.01}""", "beta_start")]     // values out of order
    [InlineData("""{"_class_name": "DDIMScheduler", "beta_schedule": "cosine"}""", "beta_schedule")]             // unsupported value
    [InlineData("""{"num_train_timesteps": 1000,""", "not a valid SchedulerConfig")]        // bad JSON
    public void ErrorsNameTheFileAndTheKey(string json, string key)
    {
        using var dir = new TempDir();
        var path = dir.File("scheduler_config.json");
        File.WriteAllText(path, json);
        var e = Assert.Throws<InvalidDataException>(() => ConfigJson.Load<SchedulerConfig>(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => ConfigJson.Load<SchedulerConfig>(dir.File("nope.json")));
        Assert.Contains(dir.File("nope.json"), e.Message);
    }
}

using Add.Engine.Configs;
using Add.Engine.Text;
using Add.Train.Model;
using Add.Train.Pipeline;
using static TorchSharp.torch;

namespace Add.Tests.Engine;

/// <summary>
/// Tiny random-weight pipelines saved in the diffusers layout (student and teacher), built once per test run: what
/// the engine is validated on before (and besides) the shipped model. Shapes are deliberately small and uneven
/// (two UNet levels of 16 and 24 channels, 3 heads of 8, a 4×4 latent, an 8×8 VAE image).
/// </summary>
public sealed class TinyPipelines : IDisposable
{
    private readonly TempDir _dir = new();

    public string Student { get; }
    public string Teacher { get; }

    public static readonly string[] Captions = ["grinning face", "red heart", "smiling cat face", "thumbs up sign", "pile of poo", "snowman"];

    public TinyPipelines()
    {
        manual_seed(7);
        var tokenizer = WordTokenizer.Build(Captions, maxLength: 6);
        var text = new CLIPTextModel(CLIPTextConfig.Emoji32(tokenizer.VocabSize) with
        {
            HiddenSize = 24, IntermediateSize = 40, NumHiddenLayers = 2, NumAttentionHeads = 3, MaxPositionEmbeddings = 6,
        });
        var unet = new UNet2DConditionModel(UNet2DConditionConfig.Emoji32 with
        {
            SampleSize = 4, BlockOutChannels = [24, 48], DownBlockTypes = ["CrossAttnDownBlock2D", "DownBlock2D"], UpBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D"],
            CrossAttentionDim = 24, AttentionHeadDim = 3, NormNumGroups = 8,
        });
        var vae = new AutoencoderKL(AutoencoderKLConfig.Emoji32.WithLevels(8, 16) with { NormNumGroups = 4, SampleSize = 8, ScalingFactor = 0.7 });
        var scheduler = SchedulerConfig.EmojiTeacher;
        var teacher = new ReferencePipeline { Tokenizer = tokenizer, TextEncoder = text, Unet = unet, Vae = vae, Scheduler = scheduler };
        teacher.Eval();
        Teacher = System.IO.Path.Combine(_dir.Path, "teacher");
        teacher.Save(Teacher, "StableDiffusionPipeline");
        var student = new ReferencePipeline
        {
            Tokenizer = tokenizer, TextEncoder = text, Unet = unet, Vae = vae,
            Scheduler = SchedulerConfig.EmojiStudent,
        };
        Student = System.IO.Path.Combine(_dir.Path, "student");
        student.Save(Student, "AddStudentPipeline");
    }

    public void Dispose() => _dir.Dispose();
}

[CollectionDefinition(Name)]
public sealed class TinyPipelineCollection : ICollectionFixture<TinyPipelines>
{
    public const string Name = "tiny random-weight pipelines";
}

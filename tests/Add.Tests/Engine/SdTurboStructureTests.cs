using Add.Engine.Backends;
using Add.Engine.Configs;
using Add.Engine.Models;
using Add.Engine.SafeTensors;
using Add.Train.Model;
using Xunit.Abstractions;
using static TorchSharp.torch;
using EngineText = Add.Engine.Models.CLIPTextModel;
using EngineUnet = Add.Engine.Models.UNet2DConditionModel;
using EngineVae = Add.Engine.Models.AutoencoderKL;
using RefText = Add.Train.Model.CLIPTextModel;
using RefUnet = Add.Train.Model.UNet2DConditionModel;
using RefVae = Add.Train.Model.AutoencoderKL;

namespace Add.Tests.Engine;

/// <summary>
/// Each network of the SD-Turbo structure at toy size, engine vs the TorchSharp reference on both CPU backends:
/// a UNet with a per-level head list and transformer depth list (linear and 1×1-conv projections, a non-square
/// latent), a 4-level VAE with 2 resnets per block and mid attention (decode and encode, non-square; and the
/// legacy attention names), text encoders with gelu and quick_gelu. Seeded random weights, every parameter (norms
/// included) perturbed so a swapped or misread tensor shows; written as safetensors from the reference's state dict
/// and read by the engine through its key binding.
/// </summary>
[Collection(TinyPipelineCollection.Name)]   // serial with the other ILGPU-CPU engine tests: in parallel their emulated thread groups thrash 2 cores (13 min for one case)
public sealed class SdTurboStructureTests(ITestOutputHelper log)
{
    /// <summary>Text encoder: fp32 GEMMs, layer norms and attention in another summation order than libtorch, 3 layers
    /// (EngineValidation's text tolerance; seen ≈ 3e-7).</summary>
    private const double TextRel = 1e-5;

    /// <summary>UNet output, ~80 ops deep with group norms amplifying rounding (EngineValidation's UNet tolerance).</summary>
    private const double UnetRel = 1e-4;

    /// <summary>VAE pixels or latents: ~40 convolutions and group norms and a softmax over all positions; same depth class as the UNet.</summary>
    private const double VaeRel = 1e-4;

    public static TheoryData<BackendKind> Backends => [BackendKind.Cpu, BackendKind.IlgpuCpu];

    private static UNet2DConditionConfig TinyUnet(bool linear) => new()
    {
        SampleSize = 8, BlockOutChannels = [16, 24, 32],
        DownBlockTypes = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"], UpBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
        LayersPerBlock = 1, CrossAttentionDim = 12, NormNumGroups = 8,
        AttentionHeadDim = new[] { 2, 3, 4 },                  // heads per level: dims 8, 8 and (mid) 8; up blocks reversed
        TransformerLayersPerBlock = new[] { 1, 2, 2 },         // up block 1 and the mid block have 2 BasicTransformerBlocks
        UseLinearProjection = linear,
    };

    private static AutoencoderKLConfig TinyVae => new AutoencoderKLConfig { LayersPerBlock = 2, NormNumGroups = 4, ScalingFactor = 0.7 }.WithLevels(8, 8, 16, 16);

    private static CLIPTextConfig TinyText(string act) => new()
    {
        VocabSize = 30, HiddenSize = 16, IntermediateSize = 24, NumHiddenLayers = 3, NumAttentionHeads = 2, MaxPositionEmbeddings = 10, HiddenAct = act,
    };

    [Theory]
    [MemberData(nameof(Backends))]
    public void TextEncodersMatchTheReference(BackendKind backend)
    {
        foreach (var act in new[] { "gelu", "quick_gelu" })
        {
            var config = TinyText(act);
            const int n = 2, length = 7;
            var random = new Random(5);
            var ids = Enumerable.Range(0, n * length).Select(_ => random.Next(config.VocabSize)).ToArray();
            using var dir = new TempDir();
            float[] expected;
            using (NewDisposeScope())
            {
                var reference = Seeded(() => new RefText(config), dir.File("model.safetensors"));
                using (no_grad()) expected = reference.forward(tensor(ids.Select(i => (long)i).ToArray(), [n, length])).data<float>().ToArray();
            }
            var actual = RunEngine(backend, dir.File("model.safetensors"), (rt, w) => new EngineText(rt, w, config), n * length * config.HiddenSize,
                (m, rt, output) => m.Forward(ids, output, n, length));
            AssertClose(expected, actual, TextRel, $"text encoder {act} {backend}");
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void UnetMatchesTheReference(BackendKind backend)
    {
        foreach (var linear in new[] { true, false })
        {
            var config = TinyUnet(linear);
            const int n = 2, h = 8, w = 4, contextLength = 7;   // non-square latent
            var random = new Random(6);
            var sample = Add.Tests.Kernels.Numerics.Normal(random, n * 4 * h * w);
            var context = Add.Tests.Kernels.Numerics.Normal(random, n * contextLength * config.CrossAttentionDim);
            float[] timesteps = [999, 250];
            using var dir = new TempDir();
            float[] expected;
            using (NewDisposeScope())
            {
                var reference = Seeded(() => new RefUnet(config), dir.File("unet.safetensors"));
                using (no_grad())
                    expected = reference.forward(tensor(sample, [n, 4, h, w]), tensor(timesteps.Select(t => (long)t).ToArray()),
                        tensor(context, [n, contextLength, config.CrossAttentionDim])).data<float>().ToArray();
            }
            var actual = RunEngine(backend, dir.File("unet.safetensors"), (rt, wts) => new EngineUnet(rt, wts, config), n * 4 * h * w, (m, rt, output) =>
            {
                var (b, a) = (rt.Backend, rt.Arena);
                var x = a.Take(sample.Length); b.Upload(sample, x);
                var t = a.Take(n); b.Upload(timesteps, t);
                var ctx = a.Take(context.Length); b.Upload(context, ctx);
                m.Forward(x, t, ctx, output, n, contextLength, h, w);
            });
            AssertClose(expected, actual, UnetRel, $"unet {(linear ? "linear" : "conv")} projection {backend}");
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void VaeDecodeAndEncodeMatchTheReference(BackendKind backend)
    {
        var config = TinyVae;
        float sf = (float)config.ScalingFactor;
        const int n = 2, h = 3, w = 2, f = 8;                 // latents 3×2 → images 24×16 (non-square, 4 levels)
        var random = new Random(7);
        var latents = Add.Tests.Kernels.Numerics.Normal(random, n * 4 * h * w);
        var pixels = Add.Tests.Kernels.Numerics.Uniform(random, n * 3 * (h * f) * (w * f));
        using var dir = new TempDir();
        float[] decoded, encoded;
        using (NewDisposeScope())
        {
            var reference = Seeded(() => new RefVae(config), dir.File("vae.safetensors"));
            using (no_grad())
            {
                decoded = reference.Decode(tensor(latents, [n, 4, h, w]) / sf).data<float>().ToArray();
                encoded = (reference.Encode(tensor(pixels, [n, 3, h * f, w * f])).Mean * sf).data<float>().ToArray();
            }
        }
        var engineDecoded = RunEngine(backend, dir.File("vae.safetensors"), (rt, wts) => new EngineVae(rt, wts, config), decoded.Length, (m, rt, output) =>
        {
            var z = rt.Arena.Take(latents.Length); rt.Backend.Upload(latents, z);
            m.Decode(z, output, n, h, w);
        });
        AssertClose(decoded, engineDecoded, VaeRel, $"vae decode {backend}");
        // One image at a time (a bound below one image's activations): the same floats as the whole batch at once.
        var oneByOne = RunEngine(backend, dir.File("vae.safetensors"), (rt, wts) => new EngineVae(rt, wts, config), decoded.Length, (m, rt, output) =>
        {
            var z = rt.Arena.Take(latents.Length); rt.Backend.Upload(latents, z);
            m.Decode(z, output, n, h, w, maxChunkFloats: 1);
        });
        Assert.Equal(engineDecoded, oneByOne);
        var engineEncoded = RunEngine(backend, dir.File("vae.safetensors"), (rt, wts) => new EngineVae(rt, wts, config), encoded.Length, (m, rt, output) =>
        {
            var x = rt.Arena.Take(pixels.Length); rt.Backend.Upload(pixels, x);
            m.Encode(x, output, n, h * f, w * f);
        });
        AssertClose(encoded, engineEncoded, VaeRel, $"vae encode {backend}");
    }

    /// <summary>A VAE checkpoint with pre-0.14 attention names (query/key/value/proj_attn) and 1×1-conv shapes loads in both
    /// the engine and the reference to the same decoder.</summary>
    [Fact]
    public void VaeWithLegacyAttentionNamesLoads()
    {
        var config = TinyVae;
        const int n = 1, h = 2, w = 3;
        var latents = Add.Tests.Kernels.Numerics.Normal(new Random(8), n * 4 * h * w);
        using var dir = new TempDir();
        float[] expected, reloaded;
        using (NewDisposeScope())
        {
            var reference = Seeded(() => new RefVae(config), dir.File("vae.safetensors"));
            var legacy = new SafeTensorsWriter();
            string[] renames = [".to_q.", ".query.", ".to_k.", ".key.", ".to_v.", ".value.", ".to_out.0.", ".proj_attn."];
            foreach (var (name, t) in reference.state_dict())
            {
                var key = name;
                for (int i = 0; i < renames.Length; i += 2) key = key.Replace(renames[i], renames[i + 1]);
                long[] shape = key != name && t.shape.Length == 2 ? [t.shape[0], t.shape[1], 1, 1] : t.shape;
                legacy.Add(key, t.detach().contiguous().data<float>().ToArray(), shape);
            }
            legacy.Save(dir.File("legacy.safetensors"));
            using (no_grad()) expected = reference.Decode(tensor(latents, [n, 4, h, w]) / (float)config.ScalingFactor).data<float>().ToArray();
            var again = new RefVae(config);
            using (var file = SafeTensorsFile.Open(dir.File("legacy.safetensors"))) StateDict.LoadInto(again, file);
            again.eval();
            using (no_grad()) reloaded = again.Decode(tensor(latents, [n, 4, h, w]) / (float)config.ScalingFactor).data<float>().ToArray();
        }
        Assert.Equal(expected, reloaded);
        var actual = RunEngine(BackendKind.Cpu, dir.File("legacy.safetensors"), (rt, wts) => new EngineVae(rt, wts, config), expected.Length, (m, rt, output) =>
        {
            var z = rt.Arena.Take(latents.Length); rt.Backend.Upload(latents, z);
            m.Decode(z, output, n, h, w);
        });
        AssertClose(expected, actual, VaeRel, "vae decode, legacy attention keys");
    }

    /// <summary>Perturbs every parameter of a freshly initialised module (seeded) and writes its state dict.</summary>
    private static T Seeded<T>(Func<T> create, string path) where T : nn.Module
    {
        manual_seed(11);
        var module = create();
        using (no_grad())
            foreach (var p in module.parameters()) p.add_(randn_like(p) * 0.1f);
        module.eval();
        var writer = new SafeTensorsWriter();
        StateDict.AddTo(writer, module);
        writer.Save(path);
        return module;
    }

    /// <summary>Loads a model from <paramref name="path"/> on a fresh backend (every tensor must be bound) and runs it.</summary>
    private static float[] RunEngine<TModel>(BackendKind kind, string path, Func<Runtime, Weights, TModel> build, int outputLength, Action<TModel, Runtime, TensorView> run)
    {
        using var backend = BackendFactory.Create(kind);
        using var arena = new Arena(backend);
        var rt = new Runtime(backend, arena);
        var buffers = new List<DeviceBuffer>();
        try
        {
            TModel model;
            using (var weights = new Weights(SafeTensorsSet.Open(path), backend, buffers)) { model = build(rt, weights); weights.ThrowIfUnused(); }
            var output = arena.Take(outputLength);
            run(model, rt, output);
            var host = new float[outputLength];
            backend.Download(output, host);
            return host;
        }
        finally
        {
            foreach (var b in buffers) b.Dispose();
        }
    }

    /// <summary>max |actual − expected| ≤ rel · max |expected| (the norm-relative error EngineValidation reports).</summary>
    private void AssertClose(float[] expected, float[] actual, double rel, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs((double)v)), err = 0;
        for (int i = 0; i < expected.Length; i++) err = Math.Max(err, Math.Abs((double)actual[i] - expected[i]));
        log.WriteLine($"{what}: max |err| {err:E2}, max |ref| {scale:E2}, relative {err / scale:E2} (limit {rel:E0})");
        Assert.True(scale > 0 && double.IsFinite(scale), $"{what}: reference output is degenerate (max |ref| {scale})");
        Assert.True(err <= rel * scale, $"{what}: max |err| {err:E3} > {rel:E0} · max |ref| {scale:E3}");
    }
}

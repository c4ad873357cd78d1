using Add.Engine.Backends;
using Add.Engine.Configs;
using Add.Engine.Models;
using Add.Engine.SafeTensors;
using Add.Train.Model;
using Xunit.Abstractions;
using static TorchSharp.torch;
using EngineTiny = Add.Engine.Models.AutoencoderTiny;
using RefTiny = Add.Train.Model.AutoencoderTiny;

namespace Add.Tests.Engine;

/// <summary>
/// AutoencoderTiny (TAESD) engine vs the TorchSharp reference on both CPU backends: TAESD's structure (4 levels,
/// 3 upsamples, blocks per level as the config says) at reduced width, emoji-sized (latent 8×8 → 64×64) and
/// non-square, with scaling_factor 1 (TAESD) and 0.7 (the folded scale and the affine path); seeded random weights,
/// every parameter perturbed; written from the reference's state dict with diffusers keys. Also the config's parameter
/// counts (TAESD's published 1,222,531 / 1,222,532) and its refusals.
/// </summary>
[Collection(TinyPipelineCollection.Name)]   // serial with the other ILGPU-CPU engine tests: in parallel their emulated thread groups thrash 2 cores (13 min for one case)
public sealed class AutoencoderTinyTests(ITestOutputHelper log)
{
    /// <summary>Decoded pixels or encoded latents: ~35 3×3 convolutions deep with ReLUs, fp32 GEMMs in another summation
    /// order than libtorch (seen ≈ 1e-6; the VAE's tolerance class, which is deeper).</summary>
    private const double TinyRel = 1e-4;

    private static AutoencoderTinyConfig Small(double scaling) => AutoencoderTinyConfig.Shaped(12, encoderBlocks: [1, 2, 1, 1], decoderBlocks: [2, 1, 1, 1]) with { ScalingFactor = scaling };

    public static TheoryData<BackendKind, double, int, int> Cases => new()
    {
        { BackendKind.Cpu, 1.0, 8, 8 },          // emoji size: latent 8×8 → 64×64
        { BackendKind.Cpu, 0.7, 3, 2 },          // non-square, scaling_factor folded / divided
        { BackendKind.IlgpuCpu, 0.7, 3, 2 },    // every kernel on ILGPU; the 8×8 case took 13 min of ILGPU's emulated thread groups in CI
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void DecodeAndEncodeMatchTheReference(BackendKind backend, double scaling, int h, int w)
    {
        var config = Small(scaling);
        const int n = 2, f = 8;
        Assert.Equal(f, config.DecoderFactor);
        var random = new Random(7);
        var latents = Add.Tests.Kernels.Numerics.Normal(random, n * 4 * h * w);
        for (int i = 0; i < 4; i++) latents[i] *= 5f;            // beyond ±3: the tanh clamp bends
        var pixels = Add.Tests.Kernels.Numerics.Uniform(random, n * 3 * (h * f) * (w * f));
        using var dir = new TempDir();
        float[] decoded, encoded;
        using (NewDisposeScope())
        {
            var reference = Seeded(config, dir.File("tiny.safetensors"));
            using (no_grad())
            {
                decoded = reference.Decode(tensor(latents, [n, 4, h, w])).data<float>().ToArray();
                encoded = reference.Encode(tensor(pixels, [n, 3, h * f, w * f])).data<float>().ToArray();
            }
        }
        var engineDecoded = RunEngine(backend, dir.File("tiny.safetensors"), config, decoded.Length, (m, rt, output) =>
        {
            var z = rt.Arena.Take(latents.Length); rt.Backend.Upload(latents, z);
            m.Decode(z, output, n, h, w);
        });
        AssertClose(decoded, engineDecoded, $"tiny decode {backend} sf {scaling} {h}x{w}");
        var engineEncoded = RunEngine(backend, dir.File("tiny.safetensors"), config, encoded.Length, (m, rt, output) =>
        {
            var x = rt.Arena.Take(pixels.Length); rt.Backend.Upload(pixels, x);
            m.Encode(x, output, n, h * f, w * f);
        });
        AssertClose(encoded, engineEncoded, $"tiny encode {backend} sf {scaling} {h}x{w}");
    }

    [Fact]
    public void ParameterCountsAreTaesdsAndTheModules()
    {
        var taesd = new AutoencoderTinyConfig();
        Assert.Equal(1_222_531, ParameterCount.Decoder(taesd));   // madebyollin/taesd README
        Assert.Equal(1_222_532, ParameterCount.Encoder(taesd));
        var warnings = new List<string>();
        var shipped = ConfigJson.Load<AutoencoderTinyConfig>(Path.Combine(Fixtures.Root, "models", "configs", "taesd", "config.json"), warnings.Add);
        Assert.Empty(warnings);
        Assert.Equal(AutoencoderTinyConfig.ClassName, shipped.DeclaredClass);
        Assert.Equal((1_222_531L, 1_222_532L, 8, 8, 1.0), (ParameterCount.Decoder(shipped), ParameterCount.Encoder(shipped), shipped.DecoderFactor, shipped.EncoderFactor, shipped.ScalingFactor));
        foreach (var c in new[] { taesd, Small(1.0), AutoencoderTinyConfig.Shaped(8, [1, 1, 1], [2, 1, 1]) })
        {
            using var module = new RefTiny(c);
            var parameters = module.named_parameters().ToList();
            Assert.Equal(ParameterCount.Decoder(c), parameters.Where(p => p.name.StartsWith("decoder.", StringComparison.Ordinal)).Sum(p => p.parameter.numel()));
            Assert.Equal(ParameterCount.Encoder(c), parameters.Where(p => p.name.StartsWith("encoder.", StringComparison.Ordinal)).Sum(p => p.parameter.numel()));
            foreach (var (name, _) in parameters) Assert.Matches(@"^(en|de)coder\.layers\.\d+\.(weight|bias|conv\.[024]\.(weight|bias))$", name);
        }
    }

    [Theory]
    [InlineData("\"act_fn\": \"gelu\"", "act_fn 'gelu'")]
    [InlineData("\"upsample_fn\": \"bilinear\"", "upsample_fn 'bilinear'")]
    [InlineData("\"upsampling_scaling_factor\": 4", "upsampling_scaling_factor 4")]
    [InlineData("\"decoder_block_out_channels\": [64, 32, 64, 64]", "decoder_block_out_channels [64, 32, 64, 64]")]
    [InlineData("\"num_encoder_blocks\": [1, 3, 3]", "num_encoder_blocks (3)")]
    [InlineData("\"shift_factor\": 0.1159", "shift_factor 0.1159")]
    [InlineData("\"_class_name\": \"AutoencoderKL\"", "_class_name 'AutoencoderKL' is not AutoencoderTiny")]
    public void UnsupportedConfigsAreRefusedByKey(string entry, string expected)
    {
        using var dir = new TempDir();
        var path = dir.File("config.json");
        File.WriteAllText(path, "{" + entry + "}");
        var e = Assert.Throws<InvalidDataException>(() => ConfigJson.Load<AutoencoderTinyConfig>(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    /// <summary>A seeded reference with every parameter perturbed, its state dict written to <paramref name="path"/>.</summary>
    internal static RefTiny Seeded(AutoencoderTinyConfig config, string path, int seed = 11)
    {
        manual_seed(seed);
        var module = new RefTiny(config);
        using (no_grad())
            foreach (var p in module.parameters()) p.add_(randn_like(p) * 0.1f);
        module.eval();
        var writer = new SafeTensorsWriter();
        StateDict.AddTo(writer, module);
        writer.Save(path);
        return module;
    }

    private static float[] RunEngine(BackendKind kind, string path, AutoencoderTinyConfig config, int outputLength, Action<EngineTiny, Runtime, TensorView> run)
    {
        using var backend = BackendFactory.Create(kind);
        using var arena = new Arena(backend);
        var rt = new Runtime(backend, arena);
        var buffers = new List<DeviceBuffer>();
        try
        {
            EngineTiny model;
            using (var weights = new Weights(SafeTensorsSet.Open(path), backend, buffers)) { model = new EngineTiny(rt, weights, config); weights.ThrowIfUnused(); }
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

    /// <summary>max |actual − expected| ≤ rel · max |expected|.</summary>
    private void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs((double)v)), err = 0;
        for (int i = 0; i < expected.Length; i++) err = Math.Max(err, Math.Abs((double)actual[i] - expected[i]));
        log.WriteLine($"{what}: max |err| {err:E2}, max |ref| {scale:E2}, relative {err / scale:E2} (limit {TinyRel:E0})");
        Assert.True(scale > 0 && double.IsFinite(scale), $"{what}: reference output is degenerate (max |ref| {scale})");
        Assert.True(err <= TinyRel * scale, $"{what}: max |err| {err:E3} > {TinyRel:E0} · max |ref| {scale:E3}");
    }
}

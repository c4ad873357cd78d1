using System.Diagnostics;
using Add.Engine.Backends;
using Add.Engine.Configs;
using Add.Engine.Models;
using Add.Engine.Pipeline;
using Add.Engine.SafeTensors;
using Add.Train.Model;
using Add.Train.Pipeline;
using static TorchSharp.torch;
using EngineKL = Add.Engine.Models.AutoencoderKL;
using EngineTiny = Add.Engine.Models.AutoencoderTiny;
using RefKL = Add.Train.Model.AutoencoderKL;

namespace Add.Perf;

/// <summary>What `add-perf decode` decodes and how often.</summary>
/// <param name="Decoder">an AutoencoderTiny folder (config.json + weights, as madebyollin/taesd), or null: seeded random
/// weights from models/configs/taesd, written to a temporary folder</param>
/// <param name="Vae">an AutoencoderKL folder (config.json + weights: a pipeline's vae/), or null: seeded random weights from
/// models/configs/sd-turbo/vae, written to a temporary folder</param>
/// <param name="Width">image width in pixels (latent width · 8)</param>
/// <param name="Repeats">timed tiny decodes per side</param>
/// <param name="FullRepeats">timed full decodes per side (one is enough: about 20 s each at 512²)</param>
/// <param name="TorchFull">whether libtorch's full decode is timed too</param>
/// <param name="Profile">whether one more engine tiny decode runs under the kernel profiler (its table goes to the log)</param>
public sealed record DecodeOptions(string Root, string? Decoder, string? Vae, int Width, int Height, int Repeats, int FullRepeats, bool TorchFull, bool Profile, int QuietMs, long Seed);

/// <summary>
/// `add-perf decode`: at one image size, on the same seeded random latents and the same weights, in one process: the
/// engine's tiny decode (AutoencoderTiny, CPU SIMD backend) against libtorch's (the reference DecoderTiny), and the
/// engine's full VAE decode (AutoencoderKL) against libtorch's. Warm-up first (the first call packs the engine's weights;
/// the full decoders warm up at a 64×64 image, then run once or a few times at full size), then the two sides alternate,
/// each call after a busy pause (--quiet-ms); medians. Both outputs of each pair are compared (max |difference|) so a
/// timing never comes from a decode that went wrong.
/// </summary>
public static class DecodeBench
{
    /// <summary>Random-weight seed of the components, as `add-train random-model --seed` (the VAE's bytes equal that command's vae/).</summary>
    public const long DefaultSeed = 0;

    public static (List<BenchResult> Rows, string Notes) Run(DecodeOptions o, TextWriter log)
    {
        if (o.Width % 8 != 0 || o.Height % 8 != 0 || o.Width <= 0 || o.Height <= 0)
            throw new ArgumentException($"--width {o.Width} --height {o.Height}: positive multiples of 8 (the decoders' factor)");
        string temp = Path.Combine(Path.GetTempPath(), $"add-perf-decode-{Environment.ProcessId}");
        try
        {
            string tinyDir = o.Decoder ?? RandomTiny(o.Root, Path.Combine(temp, "taesd"), o.Seed, log);
            string vaeDir = o.Vae ?? RandomVae(o.Root, Path.Combine(temp, "vae"), o.Seed, log);
            return Time(o, tinyDir, vaeDir, log);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    private static string RandomTiny(string root, string dir, long seed, TextWriter log)
    {
        RandomModel.Write(Path.Combine(root, "models", "configs", "taesd"), dir, seed, log: log.WriteLine);
        return dir;
    }

    /// <summary>A vae/ folder as `add-train random-model --seed S` writes it for models/configs/sd-turbo (same seed, same bytes), without the other networks.</summary>
    private static string RandomVae(string root, string dir, long seed, TextWriter log)
    {
        var source = PipelineLayout.Vae.Config(Path.Combine(root, "models", "configs", "sd-turbo"));
        Directory.CreateDirectory(dir);
        File.Copy(source, Path.Combine(dir, PipelineLayout.ConfigFile));
        var clock = Stopwatch.StartNew();
        using (var module = new RefKL(ConfigJson.Load<AutoencoderKLConfig>(source)))
        {
            RandomModel.Initialise(module, RandomModel.ComponentSeed(seed, 3));
            RandomModel.Save(module, Path.Combine(dir, PipelineLayout.DiffusersWeightsFile), SafeTensorsDType.F32);
        }
        GC.Collect();
        log.WriteLine($"random AutoencoderKL (sd-turbo vae config, seed {seed}) in {dir} ({clock.Elapsed.TotalSeconds:F1} s)");
        return dir;
    }

    private static (List<BenchResult> Rows, string Notes) Time(DecodeOptions o, string tinyDir, string vaeDir, TextWriter log)
    {
        var (tinyComponent, tinyParent) = PipelineLayout.Standalone(tinyDir);
        var (vaeComponent, vaeParent) = PipelineLayout.Standalone(vaeDir);
        var tinyConfig = ConfigJson.Load<AutoencoderTinyConfig>(tinyComponent.Config(tinyParent));
        var vaeConfig = ConfigJson.Load<AutoencoderKLConfig>(vaeComponent.Config(vaeParent));
        int f = vaeConfig.DownsampleFactor, h = o.Height / f, w = o.Width / f, lc = vaeConfig.LatentChannels;
        if (tinyConfig.DecoderFactor != f || tinyConfig.LatentChannels != lc)
            throw new ArgumentException($"{tinyDir} decodes {tinyConfig.LatentChannels} channels ×{tinyConfig.DecoderFactor}, the VAE {lc} ×{f}");

        using var backend = new CpuBackend();
        using var arena = new Arena(backend);
        var rt = new Runtime(backend, arena);
        var buffers = new List<DeviceBuffer>();
        EngineTiny engineTiny;
        EngineKL engineVae;
        using (var weights = new Weights(tinyComponent.OpenWeights(tinyParent), backend, buffers)) engineTiny = new EngineTiny(rt, weights, tinyConfig, encoder: false);
        using (var weights = new Weights(vaeComponent.OpenWeights(vaeParent), backend, buffers)) { engineVae = new EngineKL(rt, weights, vaeConfig); weights.ThrowIfUnused(); }
        var torchTiny = new DecoderTiny(tinyConfig);
        using (var weights = tinyComponent.OpenWeights(tinyParent)) StateDict.LoadInto(torchTiny, weights, "decoder.");
        torchTiny.eval();
        var torchVae = new RefKL(vaeConfig);
        using (var weights = vaeComponent.OpenWeights(vaeParent)) StateDict.LoadInto(torchVae, weights);
        torchVae.eval();

        // UNet-space latents (what a generation hands the decoder): seeded N(0, 1).
        manual_seed(o.Seed);
        using var latents = randn([1, lc, h, w]);
        manual_seed(o.Seed + 1);
        using var small = randn([1, lc, 8, 8]);
        var z = arena.Take(latents.numel());
        backend.Upload(latents.data<float>().ToArray(), z);
        var zSmall = arena.Take(small.numel());
        backend.Upload(small.data<float>().ToArray(), zSmall);
        long pixelCount = 3L * o.Width * o.Height;
        var pixels = arena.Take(pixelCount);
        var pixelsSmall = arena.Take(3L * 64 * 64);

        void EngineTinyDecode() => engineTiny.Decode(z, pixels, 1, h, w);
        void EngineFullDecode() => engineVae.Decode(z, pixels, 1, h, w);
        Tensor TorchTinyDecode(Tensor l) => torchTiny.call(l / tinyConfig.ScalingFactor);
        Tensor TorchFullDecode(Tensor l) => torchVae.Decode(l / vaeConfig.ScalingFactor);

        var results = new List<BenchResult>();
        string size = $"{o.Width}×{o.Height} (latents [1, {lc}, {h}, {w}])";

        // Tiny: warm-up (packs the engine's weights, JIT, arena sizing; libtorch's allocator), then alternate.
        for (int i = 0; i < 2; i++) { EngineTinyDecode(); using var _ = TorchTinyDecode(latents); }
        double tinyDiff = MaxDifference(backend, pixels, pixelCount, () => TorchTinyDecode(latents));
        var (engineTinyMs, torchTinyMs) = Alternate(EngineTinyDecode, () => { using var _ = TorchTinyDecode(latents); }, o.Repeats, o.QuietMs);
        results.Add(new BenchResult("tiny decode (AutoencoderTiny)", size, engineTinyMs, torchTinyMs, engineTinyMs / torchTinyMs, TinyFlops(tinyConfig, h, w) / (engineTinyMs * 1e6)));
        log.WriteLine($"tiny decode: engine {engineTinyMs:F1} ms, libtorch {torchTinyMs:F1} ms, ratio {engineTinyMs / torchTinyMs:F2}, max |engine − libtorch| {tinyDiff:G3}");
        string profile = "";
        if (o.Profile)
        {
            backend.Profiler = new KernelProfiler();
            EngineTinyDecode();
            profile = backend.Profiler.Format();
            backend.Profiler = null;
            log.WriteLine(profile);
        }

        // Full: warm-up at 64×64 (packs the weights, JIT), then the full size once or a few times per side.
        engineVae.Decode(zSmall, pixelsSmall, 1, 8, 8);
        using (var _ = TorchFullDecode(small)) { }
        var engineFull = new List<double>();
        var torchFull = new List<double>();
        double fullDiff = double.NaN;
        for (int r = 0; r < o.FullRepeats; r++)
        {
            KernelBench.Quiet(o.QuietMs);
            var clock = Stopwatch.StartNew();
            EngineFullDecode();
            engineFull.Add(clock.Elapsed.TotalMilliseconds);
            log.WriteLine($"full decode, engine: {engineFull[^1]:F0} ms");
            if (!o.TorchFull) continue;
            KernelBench.Quiet(o.QuietMs);
            clock.Restart();
            using var t = TorchFullDecode(latents);
            torchFull.Add(clock.Elapsed.TotalMilliseconds);
            log.WriteLine($"full decode, libtorch: {torchFull[^1]:F0} ms");
            if (r == 0) fullDiff = MaxDifference(backend, pixels, pixelCount, () => t.alias());
        }
        double ef = Median(engineFull), tf = o.TorchFull ? Median(torchFull) : double.NaN;   // NaN: not run (null in the JSON, — in the table)
        results.Add(new BenchResult("full decode (AutoencoderKL)", size, ef, tf, ef / tf, 0));
        results.Add(new BenchResult("engine full / engine tiny", "speed-up of the tiny decoder", ef, engineTinyMs, ef / engineTinyMs, 0));

        string notes = $"Tiny: median of {o.Repeats} decodes per side after 2 warm-up decodes; full: {(o.FullRepeats == 1 ? "one decode" : $"median of {o.FullRepeats} decodes")} per side after a 64×64 warm-up. " +
                       $"Max |engine − libtorch| of the pixels: tiny {tinyDiff:G3}, full {(o.TorchFull ? fullDiff.ToString("G3") : "not run")}. " +
                       $"Engine tiny decode: {TinyFlops(tinyConfig, h, w) / 1e9:F0} GFLOP of convolutions, {TinyFlops(tinyConfig, h, w) / (engineTinyMs * 1e6):F1} GFLOP/s.";
        if (profile.Length > 0)
            notes += $"\n\nOne engine tiny decode under the kernel profiler (each op waited for; slower than unprofiled):\n\n```\n{profile}\n```";
        foreach (var b in buffers) b.Dispose();
        return (results, notes);
    }

    /// <summary>Median time of each side over <paramref name="repeats"/> alternating calls, each after a busy pause.</summary>
    private static (double Ours, double Torch) Alternate(Action ours, Action torch, int repeats, int quietMs)
    {
        var (a, b) = (new List<double>(), new List<double>());
        for (int r = 0; r < repeats; r++)
        {
            KernelBench.Quiet(quietMs);
            var c = Stopwatch.StartNew(); ours(); a.Add(c.Elapsed.TotalMilliseconds);
            KernelBench.Quiet(quietMs);
            c.Restart(); torch(); b.Add(c.Elapsed.TotalMilliseconds);
        }
        return (Median(a), Median(b));
    }

    private static double MaxDifference(Backend backend, TensorView pixels, long count, Func<Tensor> torch)
    {
        var ours = new float[count];
        backend.Download(pixels.Slice(0, count), ours);
        using var t = torch();
        var theirs = t.contiguous().data<float>().ToArray();
        double max = 0;
        for (long i = 0; i < count; i++) max = Math.Max(max, Math.Abs(ours[i] - theirs[i]));
        return max;
    }

    /// <summary>Flops of the tiny decoder's convolutions (2·Co·Ci·9 per output pixel) at latent size h×w.</summary>
    private static double TinyFlops(AutoencoderTinyConfig c, int h, int w)
    {
        double flops = 0, pixels = (double)h * w;
        int ch = c.DecoderBlockOutChannels[0];
        flops += 2.0 * ch * c.LatentChannels * 9 * pixels;
        for (int i = 0; i < c.NumDecoderBlocks.Length; i++)
        {
            flops += 3 * c.NumDecoderBlocks[i] * 2.0 * ch * ch * 9 * pixels;
            if (i < c.NumDecoderBlocks.Length - 1) { pixels *= 4; flops += 2.0 * ch * ch * 9 * pixels; }
            else flops += 2.0 * c.OutChannels * ch * 9 * pixels;
        }
        return flops;
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}

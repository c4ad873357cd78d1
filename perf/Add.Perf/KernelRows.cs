using Add.Kernels;
using Add.Kernels.Cpu;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Add.Perf;

/// <summary>
/// The benchmark rows: every CPU kernel at the shapes the shipped models run (defaults of UNet2DConditionConfig,
/// AutoencoderKLConfig and CLIPTextConfig), each paired with the TorchSharp op(s) the reference model calls there.
/// <list type="bullet">
/// <item>UNet: latents 4×8×8, block_out_channels [64, 128, 128] (8×8, 4×4, 2×2), 32 norm groups, 4 heads, cross-attention
/// context 16×128, GEGLU inner 4·C; batch 1 and batch 2 (classifier-free guidance runs uncond and cond together).</item>
/// <item>VAE decoder: 8×8×4 → 32×32×3, channels 64 (8×8, 16×16) → 32 (32×32), 16 norm groups, one-head mid attention.</item>
/// <item>Text encoder: 16 tokens, hidden 128, 4 heads, MLP 512, causal; batch 1 and 2.</item>
/// <item>Tiny decoder (TAESD) at 512×512: <see cref="TinyDecoder"/>.</item>
/// </list>
/// Linear and conv weights are packed into the GEMM's panels once, outside the timing (<see cref="PackedWeight"/>: the
/// engine packs each weight on first use and keeps it); TorchSharp's F.linear / F.conv2d take the plain weights, as the
/// reference model calls them.
/// Flops are the formula's: 2·M·N·K for GEMMs and convs, 4·B·H·Lq·Lk·D for attention (the causal rows count the full
/// square), and per element: norms 7 (+4 with SiLU), SiLU 4, GELU 12, GEGLU 13, add 1, sampler 12, ReLU 1, tanh clamp 6,
/// affine 2; copies count 0.
/// </summary>
public static partial class KernelRows
{
    private const int Seed = 42;

    public static IEnumerable<BenchRow> All()
    {
        foreach (int b in new[] { 1, 2 })
        {
            string u = $"unet b{b}";
            yield return Timestep($"{u} time_proj", b, 64);
            yield return Linear($"{u} time_embedding.linear_1", b, 256, 64);
            yield return Linear($"{u} time_embedding.linear_2", b, 256, 256);
            yield return Conv($"{u} conv_in", b, 4, 8, 8, 64, 3, 1, 1);
            yield return GroupNorm($"{u} resnet.norm1+silu 8x8", b, 64, 8, 8, 32, true);
            yield return Conv($"{u} resnet.conv 64->64 8x8", b, 64, 8, 8, 64, 3, 1, 1);
            yield return GroupNorm($"{u} transformer.norm 8x8", b, 64, 8, 8, 32, false);
            yield return Linear($"{u} attn1.to_q 8x8", b * 64, 64, 64, bias: false);
            yield return LayerNorm($"{u} transformer.norm1 8x8", b * 64, 64);
            yield return Attention($"{u} attn1 self 8x8", b, 4, 64, 64, 16, false);
            yield return Linear($"{u} attn2.to_k context", b * 16, 64, 128, bias: false);
            yield return Attention($"{u} attn2 cross 8x8", b, 4, 64, 16, 16, false);
            yield return Linear($"{u} ff.geglu.proj 8x8", b * 64, 512, 64);
            yield return Geglu($"{u} ff.geglu 8x8", b * 64, 256);
            yield return Linear($"{u} ff.out+residual 8x8", b * 64, 64, 256, residual: true);
            yield return Conv($"{u} downsample 8x8->4x4", b, 64, 8, 8, 64, 3, 2, 1);
            yield return Conv($"{u} resnet.conv 64->128 4x4", b, 64, 4, 4, 128, 3, 1, 1);
            yield return Conv($"{u} resnet.conv 128->128 4x4", b, 128, 4, 4, 128, 3, 1, 1);
            yield return Attention($"{u} attn1 self 4x4", b, 4, 16, 16, 32, false);
            yield return Linear($"{u} ff.geglu.proj 4x4", b * 16, 1024, 128);
            yield return Conv($"{u} downsample 4x4->2x2", b, 128, 4, 4, 128, 3, 2, 1);
            yield return Conv($"{u} resnet.conv 256->128 2x2", b, 256, 2, 2, 128, 3, 1, 1);
            yield return Upsample($"{u} upsample 2x2->4x4", b, 128, 2, 2);
            yield return Upsample($"{u} upsample 4x4->8x8", b, 128, 4, 4);
            yield return Concat($"{u} skip concat 8x8", b, 128, 64, 8, 8);
            yield return Conv($"{u} resnet.conv 192->64 8x8", b, 192, 8, 8, 64, 3, 1, 1);
            yield return Conv($"{u} conv_shortcut 192->64 8x8", b, 192, 8, 8, 64, 1, 1, 0);
            yield return Add($"{u} residual add 8x8", b * 64 * 64);
        }
        yield return Sampler("sampler cfg (b1, guided)", 1, guided: true);
        yield return Sampler("sampler student (b2)", 2, guided: false);

        const string v = "vae decoder";
        yield return Conv($"{v} conv_in", 1, 4, 8, 8, 64, 3, 1, 1);
        yield return GroupNorm($"{v} norm+silu 8x8", 1, 64, 8, 8, 16, true);
        yield return Conv($"{v} conv 64->64 8x8", 1, 64, 8, 8, 64, 3, 1, 1);
        yield return Attention($"{v} mid attention", 1, 1, 64, 64, 64, false);
        yield return Upsample($"{v} upsample 8x8->16x16", 1, 64, 8, 8);
        yield return Conv($"{v} conv 64->64 16x16", 1, 64, 16, 16, 64, 3, 1, 1);
        yield return GroupNorm($"{v} norm+silu 16x16", 1, 64, 16, 16, 16, true);
        yield return Upsample($"{v} upsample 16x16->32x32", 1, 64, 16, 16);
        yield return Conv($"{v} conv 64->32 32x32", 1, 64, 32, 32, 32, 3, 1, 1);
        yield return Conv($"{v} conv 32->32 32x32", 1, 32, 32, 32, 32, 3, 1, 1);
        yield return Conv($"{v} conv_shortcut 64->32 32x32", 1, 64, 32, 32, 32, 1, 1, 0);
        yield return GroupNorm($"{v} norm+silu 32x32", 1, 32, 32, 32, 16, true);
        yield return Silu($"{v} silu 32x32", 32 * 32 * 32);
        yield return Conv($"{v} conv_out", 1, 32, 32, 32, 3, 3, 1, 1);

        foreach (int b in new[] { 1, 2 })
        {
            string t = $"text b{b}";
            yield return LayerNorm($"{t} layer_norm1", b * 16, 128);
            yield return Linear($"{t} q_proj", b * 16, 128, 128);
            yield return Attention($"{t} self_attn causal", b, 4, 16, 16, 32, true);
            yield return Linear($"{t} fc1", b * 16, 512, 128);
            yield return Gelu($"{t} gelu", b * 16 * 512);
            yield return Linear($"{t} fc2+residual", b * 16, 128, 512, residual: true);
        }

        foreach (var row in TinyDecoder())
            yield return row;

        // SD-Turbo 512² self-attention: the UNet's 64² level (5 heads of 64) and the VAE mid-block (one head of 512).
        yield return Attention("attn L4096 D64 H5", 1, 5, 4096, 4096, 64, false);
        yield return Attention("attn L4096 D512 H1", 1, 1, 4096, 4096, 512, false);
    }

    // ---- inputs ----

    private static Tensor Rand(params long[] shape) => randn(shape, dtype: ScalarType.Float32);

    private static float[] Data(Tensor t) => t.data<float>().ToArray();

    private static void Seeded() => manual_seed(Seed);

    // ---- rows ----

    private static BenchRow Linear(string name, int m, int n, int k, bool bias = true, bool residual = false) =>
        new(name, $"X [{m}, {k}] W [{n}, {k}]{(bias ? " +b" : "")}{(residual ? " +R" : "")}", 2.0 * m * n * k, () =>
        {
            Seeded();
            var tx = Rand(m, k);
            var tw = Rand(n, k);
            var tb = bias ? Rand(n) : null;
            var tr = residual ? Rand(m, n) : null;
            float[] x = Data(tx), w = Data(tw), bv = tb is null ? [] : Data(tb), r = tr is null ? [] : Data(tr), y = new float[m * n];
            var ws = new float[LinearCpu.WorkspaceFloats(m, n, k)];
            var packed = PackedWeight.ForLinear(w, n, k);     // as CpuBackend does, once
            return (() => LinearCpu.Forward(x, w, bv, r, y, m, n, k, ws, packed: packed),
                () =>
                {
                    using var scope = NewDisposeScope();
                    var o = F.linear(tx, tw, tb);
                    if (tr is not null)
                        o.add_(tr);
                });
        }, Gemm: true);

    private static BenchRow Conv(string name, int n, int ci, int h, int w, int co, int kernel, int stride, int pad)
    {
        var s = new Conv2dShape(n, ci, h, w, co, kernel, kernel, stride, pad, true);
        return new(name, $"x [{n}, {ci}, {h}, {w}] w [{co}, {ci}, {kernel}, {kernel}] s{stride}",
            2.0 * n * co * s.OutHeight * s.OutWidth * s.ReductionLength, () =>
            {
                Seeded();
                var tx = Rand(n, ci, h, w);
                var tw = Rand(co, ci, kernel, kernel);
                var tb = Rand(co);
                float[] x = Data(tx), wv = Data(tw), bv = Data(tb), y = new float[n * co * s.OutHeight * s.OutWidth];
                var ws = new float[Conv2dCpu.WorkspaceFloats(s)];
                var packed = PackedWeight.ForConv(wv, co, s.ReductionLength);     // as CpuBackend does, once
                return (() => Conv2dCpu.Forward(x, wv, bv, [], y, s, ws, packed: packed),
                    () =>
                    {
                        using var o = F.conv2d(tx, tw, tb, strides: [stride, stride], padding: [pad, pad]);
                    });
            }, Gemm: true);
    }

    private static BenchRow GroupNorm(string name, int n, int c, int h, int w, int groups, bool silu) =>
        new(name, $"x [{n}, {c}, {h}, {w}] G{groups}", (silu ? 11.0 : 7.0) * n * c * h * w, () =>
        {
            Seeded();
            var tx = Rand(n, c, h, w);
            var tg = Rand(c);
            var tb = Rand(c);
            float[] x = Data(tx), g = Data(tg), bv = Data(tb), y = new float[x.Length];
            return (() => GroupNormCpu.Forward(x, g, bv, y, n, c, h, w, groups, 1e-5f, silu),
                () =>
                {
                    using var scope = NewDisposeScope();
                    var o = F.group_norm(tx, groups, tg, tb, 1e-5);
                    if (silu)
                        F.silu(o, inplace: true);
                });
        });

    private static BenchRow LayerNorm(string name, int m, int d) =>
        new(name, $"x [{m}, {d}]", 7.0 * m * d, () =>
        {
            Seeded();
            var tx = Rand(m, d);
            var tg = Rand(d);
            var tb = Rand(d);
            float[] x = Data(tx), g = Data(tg), bv = Data(tb), y = new float[x.Length];
            return (() => LayerNormCpu.Forward(x, g, bv, y, m, d, 1e-5f),
                () =>
                {
                    using var o = F.layer_norm(tx, [d], tg, tb, 1e-5);
                });
        });

    private static BenchRow Attention(string name, int b, int heads, int lq, int lk, int d, bool causal) =>
        new(name, $"Q [{b}, {heads}, {lq}, {d}] K,V [{b}, {heads}, {lk}, {d}]{(causal ? " causal" : "")}", 4.0 * b * heads * lq * lk * d, () =>
        {
            Seeded();
            var tq = Rand(b, heads, lq, d);
            var tk = Rand(b, heads, lk, d);
            var tv = Rand(b, heads, lk, d);
            float[] q = Data(tq), k = Data(tk), v = Data(tv), o = new float[q.Length];
            return (() => AttentionCpu.Forward(q, k, v, o, b, heads, lq, lk, d, causal),
                () =>
                {
                    using var r = F.scaled_dot_product_attention(tq, tk, tv, null, 0.0, causal);
                });
        }, Gemm: true);

    private static BenchRow Geglu(string name, int m, int f) =>
        new(name, $"x [{m}, {2 * f}] -> [{m}, {f}]", 13.0 * m * f, () =>
        {
            Seeded();
            var tx = Rand(m, 2 * f);
            float[] x = Data(tx), y = new float[m * f];
            return (() => ElementwiseCpu.Geglu(x, y, m, f),
                () =>
                {
                    using var scope = NewDisposeScope();
                    var parts = tx.chunk(2, -1);
                    _ = parts[0] * F.gelu(parts[1]);
                });
        });

    private static BenchRow Gelu(string name, int count) =>
        new(name, $"x [{count}]", 12.0 * count, () =>
        {
            Seeded();
            var tx = Rand(count);
            float[] x = Data(tx), y = new float[count];
            return (() => ElementwiseCpu.Gelu(x, y), () =>
            {
                using var o = F.gelu(tx);
            });
        });

    private static BenchRow Silu(string name, int count) =>
        new(name, $"x [{count}]", 4.0 * count, () =>
        {
            Seeded();
            var tx = Rand(count);
            float[] x = Data(tx), y = new float[count];
            return (() => ElementwiseCpu.Silu(x, y), () =>
            {
                using var o = F.silu(tx);
            });
        });

    private static BenchRow Add(string name, int count) =>
        new(name, $"a, b [{count}]", count, () =>
        {
            Seeded();
            var ta = Rand(count);
            var tb = Rand(count);
            float[] a = Data(ta), bv = Data(tb), y = new float[count];
            return (() => ElementwiseCpu.Add(a, bv, y), () =>
            {
                using var o = ta + tb;
            });
        });

    private static BenchRow Upsample(string name, int n, int c, int h, int w) =>
        new(name, $"x [{n}, {c}, {h}, {w}] -> {2 * h}x{2 * w}", 0, () =>
        {
            Seeded();
            var tx = Rand(n, c, h, w);
            float[] x = Data(tx), y = new float[4 * x.Length];
            return (() => ElementwiseCpu.Upsample2x(x, y, n, c, h, w), () =>
            {
                using var o = F.interpolate(tx, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
            });
        });

    private static BenchRow Concat(string name, int n, int ca, int cb, int h, int w) =>
        new(name, $"[{n}, {ca}, {h}, {w}] + [{n}, {cb}, {h}, {w}]", 0, () =>
        {
            Seeded();
            var ta = Rand(n, ca, h, w);
            var tb = Rand(n, cb, h, w);
            float[] a = Data(ta), bv = Data(tb), y = new float[a.Length + bv.Length];
            return (() => ElementwiseCpu.ConcatChannels(a, bv, y, n, ca, cb, h, w), () =>
            {
                using var o = cat([ta, tb], 1);
            });
        });

    private static BenchRow Timestep(string name, int b, int dim) =>
        new(name, $"t [{b}] -> [{b}, {dim}]", 0, () =>
        {
            float[] t = Enumerable.Range(0, b).Select(i => 999f - 250f * i).ToArray();
            var tt = tensor(t);
            var shape = new TimestepEmbeddingShape(dim, true, 0f);
            var y = new float[b * dim];
            int half = dim / 2;
            return (() => TimestepEmbeddingCpu.Forward(t, y, shape), () =>
            {
                // diffusers get_timestep_embedding(t, dim, flip_sin_to_cos=True, downscale_freq_shift=0)
                using var scope = NewDisposeScope();
                var exponent = -Math.Log(10000) * arange(half, dtype: ScalarType.Float32) / half;
                var emb = tt[.., TensorIndex.None] * exp(exponent)[TensorIndex.None, ..];
                _ = cat([cos(emb), sin(emb)], -1);
            });
        });

    /// <param name="size">the latent's height and width (4 channels)</param>
    private static BenchRow Sampler(string name, int b, bool guided, int size = 8) =>
        new(name, $"latent [{b}, 4, {size}, {size}]{(guided ? $" eps [2, 4, {size}, {size}] CFG" : " + noise")}", 12.0 * b * 4 * size * size, () =>
        {
            Seeded();
            int count = b * 4 * size * size;
            var tx = Rand(b, 4, size, size);
            var teps = Rand(guided ? 2 * b : b, 4, size, size);   // the UNet's output: [uncond; cond] when guided
            var tn = Rand(b, 4, size, size);
            float[] x = Data(tx), eps = Data(teps), noise = Data(tn), next = new float[count], x0 = new float[count];
            // Coefficients of one mid-schedule step (values only matter for realism, not speed).
            var step = guided
                ? new LatentSamplerStep(0.98f, -0.05f, 0f, 1.02f, -0.2f).WithGuidance(5f)
                : new LatentSamplerStep(0.3f, -0.2f, 0.9f, 1.4f, -0.9f);
            double a = 0.98, bb = -0.05, c = 0.9, x0x = 1.02, x0e = -0.2;
            return (() =>
            {
                var all = eps.AsSpan();
                if (guided)
                    LatentSamplerCpu.Step(x, all[..count], all[count..], [], next, x0, step);
                else
                    LatentSamplerCpu.Step(x, [], all, noise, next, x0, step);
            }, () =>
            {
                using var scope = NewDisposeScope();
                Tensor e;
                if (guided)
                {
                    var parts = teps.chunk(2);
                    e = parts[0] + 5.0 * (parts[1] - parts[0]);
                }
                else
                    e = teps;
                _ = x0x * tx + x0e * e;
                _ = guided ? a * tx + bb * e : a * tx + bb * e + c * tn;
            });
        });
}

using Add.Engine.Sampling;
using Add.GpuCheck.Families;
using static Add.GpuCheck.Families.ElementwiseCheck;

namespace Add.GpuCheck;

/// <summary>
/// The cases: every ILGPU kernel family at the shapes the shipped model runs (the defaults of UNet2DConditionConfig,
/// AutoencoderKLConfig and CLIPTextConfig, as perf/Add.Perf/KernelRows.cs lists them for the CPU kernels), plus a few
/// large cases where a GPU's time is more than launch overhead.
/// <list type="bullet">
/// <item>UNet: latents 4×8×8, block_out_channels [64, 128, 128] (8×8, 4×4, 2×2), 32 norm groups (ε 1e-5; the
/// transformer's norm 1e-6), 4 heads (D = 16 at 64 channels, 32 at 128), cross-attention context 16×128, GEGLU inner
/// 4·C; batch 2, as classifier-free guidance runs the unconditional and conditional halves together.</item>
/// <item>Sampler: one CFG step on the batch-1 latent (the UNet's two halves combined), one student step on batch 2.</item>
/// <item>VAE decoder: 8×8×4 → 32×32×3, channels 64 (8×8, 16×16) → 32 (32×32), 16 norm groups (ε 1e-6), one-head
/// mid attention (D = 64).</item>
/// <item>Text encoder: batch 2 (prompt and empty prompt), 16 tokens, hidden 128, 4 heads (D = 32), MLP 512, GELU.
/// Its attention is causal; the ILGPU kernel has no mask yet, so the case checks the unmasked product at that shape.</item>
/// <item>Tiny decoder (AutoencoderTiny / TAESD, 64 channels): the latent clamp on SD's 4×64×64 latents, ReLU at 64×64 and at
/// 512×512 (its largest activation), the encoder's affine input map on a 3×512×512 image, and its 3×3 conv at 64×64.</item>
/// <item>Large: self-attention B2·H4·L1024·D64 (SD-scale 32×32 latents), group norm + SiLU on [2, 128, 64, 64],
/// a 2048×512×256 GEMM, a 64→64 3×3 conv at 64×64, and the sampler on SD's 4×64×64 latents.</item>
/// </list>
/// </summary>
public static class Catalog
{
    public const int Seed = 42;

    /// <summary>Makes every case (inputs and reference outputs), in report order.</summary>
    public static IEnumerable<CheckCase> All()
    {
        const int s = Seed;
        const float unetEps = 1e-5f, transformerEps = 1e-6f, vaeEps = 1e-6f, textEps = 1e-5f;

        // UNet, batch 2 (CFG).
        yield return MakeTimestep("unet.time_proj", "UNet time_proj", [999f, 999f], 64, flipSinToCos: true, freqShift: 0f);
        yield return LinearCheck.Make("unet.time_embedding.linear_1", "UNet time_embedding", s, 2, 256, 64);
        yield return LinearCheck.Make("unet.time_embedding.linear_2", "UNet time_embedding", s, 2, 256, 256);
        yield return Conv2dCheck.Make("unet.conv_in", "UNet conv_in", s, 2, 4, 8, 8, 64, 3, 1, 1);
        yield return GroupNormCheck.Make("unet.resnet.norm1_silu.8x8", "UNet resnet norm1 + SiLU, 8x8", s, 2, 64, 8, 8, 32, true, unetEps);
        yield return Conv2dCheck.Make("unet.resnet.conv.64-64.8x8", "UNet resnet conv1, 8x8", s, 2, 64, 8, 8, 64, 3, 1, 1);
        yield return GroupNormCheck.Make("unet.transformer.norm.8x8", "UNet transformer norm, 8x8", s, 2, 64, 8, 8, 32, false, transformerEps);
        yield return LayerNormCheck.Make("unet.transformer.norm1.8x8", "UNet transformer block norm1, 8x8", s, 2 * 64, 64, unetEps);
        yield return LinearCheck.Make("unet.attn1.to_q.8x8", "UNet attn1 to_q, 8x8", s, 2 * 64, 64, 64, bias: false);
        yield return AttentionCheck.Make("unet.attn1.self.8x8", "UNet self-attention, 8x8", s, 2, 4, 64, 64, 16);
        yield return LinearCheck.Make("unet.attn2.to_k.context", "UNet attn2 to_k on the text context", s, 2 * 16, 64, 128, bias: false);
        yield return AttentionCheck.Make("unet.attn2.cross.8x8", "UNet cross-attention, 8x8", s, 2, 4, 64, 16, 16);
        yield return LinearCheck.Make("unet.ff.geglu_proj.8x8", "UNet ff GEGLU proj, 8x8", s, 2 * 64, 512, 64);
        yield return MakeGeglu("unet.ff.geglu.8x8", "UNet ff GEGLU, 8x8", s, 2 * 64, 256);
        yield return LinearCheck.Make("unet.ff.out.8x8", "UNet ff out, 8x8", s, 2 * 64, 64, 256);
        yield return Conv2dCheck.Make("unet.downsample.8x8-4x4", "UNet downsample 8x8 -> 4x4", s, 2, 64, 8, 8, 64, 3, 2, 1);
        yield return GroupNormCheck.Make("unet.resnet.norm_silu.4x4", "UNet resnet norm + SiLU, 4x4", s, 2, 128, 4, 4, 32, true, unetEps);
        yield return Conv2dCheck.Make("unet.resnet.conv.64-128.4x4", "UNet resnet conv1, 4x4", s, 2, 64, 4, 4, 128, 3, 1, 1);
        yield return Conv2dCheck.Make("unet.resnet.conv.128-128.4x4", "UNet resnet conv2, 4x4", s, 2, 128, 4, 4, 128, 3, 1, 1);
        yield return LayerNormCheck.Make("unet.transformer.norm1.4x4", "UNet transformer block norm1, 4x4", s, 2 * 16, 128, unetEps);
        yield return AttentionCheck.Make("unet.attn1.self.4x4", "UNet self-attention, 4x4", s, 2, 4, 16, 16, 32);
        yield return AttentionCheck.Make("unet.attn2.cross.4x4", "UNet cross-attention, 4x4", s, 2, 4, 16, 16, 32);
        yield return LinearCheck.Make("unet.ff.geglu_proj.4x4", "UNet ff GEGLU proj, 4x4", s, 2 * 16, 1024, 128);
        yield return Conv2dCheck.Make("unet.downsample.4x4-2x2", "UNet downsample 4x4 -> 2x2", s, 2, 128, 4, 4, 128, 3, 2, 1);
        yield return Conv2dCheck.Make("unet.resnet.conv.256-128.2x2", "UNet up-block resnet conv1, 2x2", s, 2, 256, 2, 2, 128, 3, 1, 1);
        yield return MakeUpsample("unet.upsample.2x2-4x4", "UNet upsample 2x2 -> 4x4", s, 2, 128, 2, 2);
        yield return MakeUpsample("unet.upsample.4x4-8x8", "UNet upsample 4x4 -> 8x8", s, 2, 128, 4, 4);
        yield return MakeConcat("unet.skip_concat.8x8", "UNet skip concat, 8x8", s, 2, 128, 64, 8, 8);
        yield return Conv2dCheck.Make("unet.resnet.conv.192-64.8x8", "UNet up-block resnet conv1, 8x8", s, 2, 192, 8, 8, 64, 3, 1, 1);
        yield return Conv2dCheck.Make("unet.conv_shortcut.192-64.8x8", "UNet up-block conv_shortcut 1x1, 8x8", s, 2, 192, 8, 8, 64, 1, 1, 0);
        yield return MakeAdd("unet.residual_add.8x8", "UNet residual add, 8x8", s, 2, 64, 8, 8);
        yield return Conv2dCheck.Make("unet.conv_out", "UNet conv_out", s, 2, 64, 8, 8, 4, 3, 1, 1);

        // Sampler steps on the latent.
        yield return SamplerCheck.Make("sampler.cfg_ddim.b1", "teacher DDIM step with CFG", s, 1, 4, 8, 8, SamplerKind.Ddim, 999, 979, 7.5f);
        yield return SamplerCheck.Make("sampler.cfg_euler_a.b1", "Euler-ancestral step with CFG", s, 1, 4, 8, 8, SamplerKind.EulerAncestral, 999, 979, 5f);
        yield return SamplerCheck.Make("sampler.student.b2", "ADD student step (re-noise)", s, 2, 4, 8, 8, SamplerKind.StudentRenoise, 999, 749, 0f);

        // VAE decoder, batch 1.
        yield return Conv2dCheck.Make("vae.conv_in", "VAE decoder conv_in", s, 1, 4, 8, 8, 64, 3, 1, 1);
        yield return GroupNormCheck.Make("vae.norm_silu.8x8", "VAE resnet norm + SiLU, 8x8", s, 1, 64, 8, 8, 16, true, vaeEps);
        yield return Conv2dCheck.Make("vae.conv.64-64.8x8", "VAE resnet conv, 8x8", s, 1, 64, 8, 8, 64, 3, 1, 1);
        yield return AttentionCheck.Make("vae.mid_attention", "VAE mid-block attention (1 head)", s, 1, 1, 64, 64, 64);
        yield return MakeUpsample("vae.upsample.8x8-16x16", "VAE upsample 8x8 -> 16x16", s, 1, 64, 8, 8);
        yield return Conv2dCheck.Make("vae.conv.64-64.16x16", "VAE resnet conv, 16x16", s, 1, 64, 16, 16, 64, 3, 1, 1);
        yield return GroupNormCheck.Make("vae.norm_silu.16x16", "VAE resnet norm + SiLU, 16x16", s, 1, 64, 16, 16, 16, true, vaeEps);
        yield return MakeUpsample("vae.upsample.16x16-32x32", "VAE upsample 16x16 -> 32x32", s, 1, 64, 16, 16);
        yield return Conv2dCheck.Make("vae.conv.64-32.32x32", "VAE resnet conv1, 32x32", s, 1, 64, 32, 32, 32, 3, 1, 1);
        yield return Conv2dCheck.Make("vae.conv.32-32.32x32", "VAE resnet conv2, 32x32", s, 1, 32, 32, 32, 32, 3, 1, 1);
        yield return Conv2dCheck.Make("vae.conv_shortcut.64-32.32x32", "VAE conv_shortcut 1x1, 32x32", s, 1, 64, 32, 32, 32, 1, 1, 0);
        yield return GroupNormCheck.Make("vae.norm_silu.32x32", "VAE resnet norm + SiLU, 32x32", s, 1, 32, 32, 32, 16, true, vaeEps);
        yield return MakeSilu("vae.silu.32x32", "VAE conv_norm_out SiLU, 32x32", s, 1, 32, 32, 32);
        yield return Conv2dCheck.Make("vae.conv_out", "VAE conv_out", s, 1, 32, 32, 32, 3, 3, 1, 1);

        // Text encoder, batch 2.
        yield return LayerNormCheck.Make("text.layer_norm1", "text encoder layer_norm1", s, 2 * 16, 128, textEps);
        yield return LinearCheck.Make("text.q_proj", "text encoder q_proj", s, 2 * 16, 128, 128);
        yield return AttentionCheck.Make("text.self_attn", "text encoder self-attention (unmasked; the model's is causal)", s, 2, 4, 16, 16, 32);
        yield return LinearCheck.Make("text.fc1", "text encoder MLP fc1", s, 2 * 16, 512, 128);
        yield return MakeGelu("text.gelu", "text encoder MLP GELU", s, 2 * 16, 512);
        yield return LinearCheck.Make("text.fc2", "text encoder MLP fc2", s, 2 * 16, 128, 512);

        // Tiny decoder (TAESD at 512×512: latents 4×64×64, 64 channels from 64×64 to 512×512).
        yield return TinyDecoderCheck.MakeTanhClamp("taesd.tanh_clamp", "TAESD decoder latent clamp tanh(x/3)·3", s, 1, 4, 64, 64);
        yield return TinyDecoderCheck.MakeRelu("taesd.relu.64x64", "TAESD decoder ReLU, 64x64", s, 1, 64, 64, 64);
        // The decoder's large ReLU (64 channels at 512²) and the encoder's affine at 512² are left to the 64² ReLU and a
        // 256² affine: their inputs and expected values (134 MB and 6 MB) put the bundle over its 64 MiB carry limit.
        yield return TinyDecoderCheck.MakeAffine("taesd.affine.256x256", "TAESD encoder input (x + 1)/2, 256x256", s, 0.5f, 0.5f, 1, 3, 256, 256);
        yield return Conv2dCheck.Make("taesd.conv.64-64.64x64", "TAESD block conv, 64x64", s, 1, 64, 64, 64, 64, 3, 1, 1);

        // Large cases: GPU-scale work per launch.
        yield return AttentionCheck.Make("large.attention.L1024.D64", "large: SD-scale self-attention", s, 2, 4, 1024, 1024, 64);
        yield return GroupNormCheck.Make("large.norm_silu.64x64", "large: group norm + SiLU at 64x64", s, 2, 128, 64, 64, 32, true, unetEps);
        yield return LinearCheck.Make("large.linear.2048x512x256", "large: token GEMM", s, 2048, 512, 256);
        yield return Conv2dCheck.Make("large.conv.64-64.64x64", "large: conv 3x3 at 64x64", s, 1, 64, 64, 64, 64, 3, 1, 1);
        yield return SamplerCheck.Make("large.sampler.cfg_ddim.64x64", "large: CFG DDIM step on SD's 4x64x64 latents", s, 2, 4, 64, 64, SamplerKind.Ddim, 999, 979, 7.5f);
    }
}

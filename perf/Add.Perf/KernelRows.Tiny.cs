using Add.Kernels;
using Add.Kernels.Cpu;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Add.Perf;

public static partial class KernelRows
{
    /// <summary>
    /// The tiny decoder (AutoencoderTiny / TAESD, models/configs/taesd) decoding SD latents 4×64×64 to 512×512: its latent
    /// clamp, its 3×3 convs (64 channels, K = 576; conv_in with Cin = 4, conv_out with Co = 3), each ReLU fused into its
    /// conv's store as the engine runs them (the torch side: conv2d, then relu in place), the block's last conv with the
    /// residual and ReLU fused, the ×2 upsample to 512×512, a separate ReLU pass over the largest activation (what the
    /// fusion saves), and the encoder's affine input map. The 64→64 conv rows stop at 256×256 (4.8 GFLOP a call) to keep the
    /// run short; the 512×512 convs are four times that.
    /// </summary>
    private static IEnumerable<BenchRow> TinyDecoder()
    {
        const string t = "taesd decoder";
        yield return TanhClamp($"{t} tanh clamp", 4 * 64 * 64);
        yield return TinyConv($"{t} conv_in+relu 4->64 64x64", 4, 64, 64, relu: true, residual: false);
        yield return TinyConv($"{t} conv+relu 64->64 64x64", 64, 64, 64, relu: true, residual: false);
        yield return TinyConv($"{t} conv+relu 64->64 256x256", 64, 64, 256, relu: true, residual: false);
        yield return TinyConv($"{t} conv+residual+relu 256x256", 64, 64, 256, relu: true, residual: true);
        yield return Upsample($"{t} upsample 256x256->512x512", 1, 64, 256, 256);
        yield return Relu($"{t} relu 512x512 (unfused pass)", 64 * 512 * 512);
        yield return TinyConv($"{t} conv_out 64->3 512x512", 64, 3, 512, relu: false, residual: false);
        yield return Affine("taesd encoder affine (x+1)/2", 3 * 512 * 512);
    }

    private static BenchRow TinyConv(string name, int ci, int co, int size, bool relu, bool residual)
    {
        var s = new Conv2dShape(1, ci, size, size, co, 3, 3, 1, 1, true);
        return new(name, $"x [1, {ci}, {size}, {size}] w [{co}, {ci}, 3, 3]{(residual ? " +R" : "")}{(relu ? " relu" : "")}",
            2.0 * co * size * size * s.ReductionLength, () =>
            {
                Seeded();
                var tx = Rand(1, ci, size, size);
                var tw = Rand(co, ci, 3, 3);
                var tb = Rand(co);
                var tr = residual ? Rand(1, co, size, size) : null;
                float[] x = Data(tx), wv = Data(tw), bv = Data(tb), r = tr is null ? [] : Data(tr), y = new float[co * size * size];
                var ws = new float[Conv2dCpu.WorkspaceFloats(s)];
                var packed = PackedWeight.ForConv(wv, co, s.ReductionLength);     // as CpuBackend does, once
                return (() => Conv2dCpu.Forward(x, wv, bv, r, y, s, ws, packed: packed, relu: relu),
                    () =>
                    {
                        using var o = F.conv2d(tx, tw, tb, padding: [1, 1]);
                        if (tr is not null)
                            o.add_(tr);
                        if (relu)
                            F.relu(o, inplace: true);
                    });
            }, Gemm: true);
    }

    private static BenchRow Relu(string name, int count) =>
        new(name, $"x [{count}]", count, () =>
        {
            Seeded();
            var tx = Rand(count);
            float[] x = Data(tx), y = new float[count];
            return (() => ElementwiseCpu.Relu(x, y), () =>
            {
                using var o = F.relu(tx);
            });
        });

    private static BenchRow TanhClamp(string name, int count) =>
        new(name, $"x [{count}]", 6.0 * count, () =>
        {
            Seeded();
            var tx = Rand(count) * 4;
            float[] x = Data(tx), y = new float[count];
            return (() => ElementwiseCpu.TanhClamp(x, y), () =>
            {
                using var scope = NewDisposeScope();
                _ = tanh(tx / 3) * 3;
            });
        });

    private static BenchRow Affine(string name, int count) =>
        new(name, $"x [{count}]", 2.0 * count, () =>
        {
            Seeded();
            var tx = Rand(count);
            float[] x = Data(tx), y = new float[count];
            return (() => ElementwiseCpu.Affine(x, y, 0.5f, 0.5f), () =>
            {
                using var scope = NewDisposeScope();
                _ = tx.add(1).div(2);
            });
        });
}

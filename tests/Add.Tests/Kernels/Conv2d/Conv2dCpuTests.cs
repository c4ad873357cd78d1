using Add.Kernels;
using Add.Kernels.Cpu;
using Add.Tests.Kernels.Cpu;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.Conv2d;

/// <summary>CPU conv2d (+ bias, + residual, then ReLU or not) against torch.nn.functional.conv2d (and relu), on every SIMD
/// path, per call and prepacked; and the batch invariance of the fused ReLU epilogue.</summary>
[Trait("Category", "Kernels")]
public sealed class Conv2dCpuTests(ITestOutputHelper log)
{
    // fp32 sums of up to 9·70 = 630 products of U(−1, 1) values in a different order than libtorch's: ~√K ulp of partial sums.
    private static readonly Tolerance Fp32Conv = new(Atol: 3e-5, Rtol: 1e-5);

    [Fact]
    public void AKernelLargerThanThePaddedInputIsRefused()
    {
        // (3 − 4)/2 + 1 truncates to an output of 1×1: the check must look at the padded input, not only the output size.
        var s = new Conv2dShape(1, 1, 3, 3, 1, 4, 4, 2, 0, false);
        var error = Assert.Throws<ArgumentException>(() => Conv2dCpu.Forward(new float[9], new float[16], [], [], new float[1], s,
            new float[Conv2dCpu.WorkspaceFloats(s)]));
        Assert.Contains("4x4", error.Message);
        Assert.Contains("3x3", error.Message);
    }

    public record ConvCase(int N, int Ci, int H, int W, int Co, int Kernel, int Stride, int Pad, bool Bias, bool Residual)
    {
        public override string ToString() => $"n{N} ci{Ci} {H}x{W} co{Co} k{Kernel} s{Stride} p{Pad} bias={Bias} res={Residual}";
    }

    public static TheoryData<SimdPath, ConvCase> ConvCases => CpuPaths.With(
        new ConvCase(2, 5, 7, 9, 11, 3, 1, 1, true, false),      // odd everything, batch 2
        new ConvCase(1, 3, 10, 13, 6, 3, 2, 1, true, false),     // stride 2 (downsample), odd width
        new ConvCase(2, 7, 5, 6, 9, 1, 1, 0, false, true),       // 1×1 (read as B directly), residual
        new ConvCase(1, 70, 8, 8, 37, 3, 1, 1, true, true),      // K = 630 > KcMax (two K blocks), Co not a multiple of any MR
        new ConvCase(1, 9, 33, 35, 17, 3, 1, 1, true, false),    // P = 1155 > NC: several column blocks, rows spanning panels
        new ConvCase(2, 64, 4, 4, 128, 3, 1, 1, true, true),     // the UNet's 4×4 level: batched GEMM (N = 2·16), residual
        new ConvCase(3, 6, 5, 7, 10, 3, 2, 1, true, true),       // batched, stride 2: image boundaries inside a panel
        new ConvCase(2, 4, 17, 16, 5, 3, 1, 1, false, false),    // plane 272 ≥ the batching limit: one GEMM per image
        new ConvCase(1, 20, 3, 3, 40, 3, 1, 1, true, true),      // 3×3 plane: transposed (pixels as rows of the tile), residual
        new ConvCase(3, 9, 4, 4, 40, 3, 2, 1, true, true),       // batched 2×2 planes, stride 2: transposed across images
        new ConvCase(1, 256, 2, 2, 128, 3, 1, 1, true, false),   // the UNet's 2×2 resnet conv (K = 2304: five K blocks)
        new ConvCase(2, 3, 6, 7, 5, 3, 1, 0, true, true),        // 3×3 without padding
        new ConvCase(1, 3, 5, 4, 7, 3, 1, 2, true, false),       // padding 2: whole rows and columns of zeros (from the padded copy: rows under 32)
        new ConvCase(2, 4, 3, 5, 6, 1, 1, 1, true, true),        // a padded 1×1: not read directly, its border is all zeros
        new ConvCase(1, 2, 9, 8, 3, 3, 2, 2, false, false),      // stride 2, padding 2: two zero columns in the split copy each side
        new ConvCase(1, 5, 9, 70, 13, 3, 2, 1, true, true),      // stride 2, runs of 35: phases of 36 (two vector deals, then scalar)
        new ConvCase(2, 3, 8, 64, 7, 3, 2, 1, false, true),      // the UNet's downsample: width 64, runs of 32 outputs, batch 2
        new ConvCase(1, 4, 7, 41, 6, 3, 2, 2, true, false),      // stride 2, padding 2, odd width: runs of 22, phases of 23 (a scalar tail)
        new ConvCase(1, 5, 11, 14, 7, 3, 3, 1, true, true),      // stride 3: three column phases of 6
        new ConvCase(2, 6, 9, 10, 5, 1, 2, 0, true, false),      // 1×1 stride 2: one tap, the odd columns and rows never read
        new ConvCase(1, 3, 20, 67, 8, 4, 2, 1, false, true),     // 4×4 stride 2: taps 2 and 3 one position into their phase, rows of 69
        new ConvCase(1, 71, 13, 36, 9, 3, 2, 1, true, true),     // stride 2, K = 639 = 320 + 319: the second K block starts mid-channel in the split copy
        new ConvCase(1, 71, 18, 64, 13, 3, 2, 1, true, true),    // rows of 32 outputs: B read in place (halves), a K block mid-channel; P = 288, not whole
                                                                 // panels: on two cores the second chunk [128, 288) packs beside the first's in-place one
        new ConvCase(1, 5, 12, 128, 7, 3, 2, 1, true, false),    // rows of 64 outputs: both halves of a panel in one row
        new ConvCase(2, 3, 10, 64, 7, 3, 2, 1, true, true),      // batched, Ho 5: panel 2's halves in different images, read in place
        new ConvCase(2, 4, 34, 64, 6, 3, 2, 1, true, true),      // per image, batch 2 (the split copy remade per image), P = 544
        new ConvCase(1, 2, 64, 64, 4, 3, 2, 1, true, false),     // P = 1,024 in place: two NC blocks of columns
        new ConvCase(1, 3, 8, 96, 5, 3, 3, 0, true, true),       // stride 3, padding 0, rows of 32: in place, three phases
        new ConvCase(1, 6, 8, 64, 7, 1, 2, 0, false, true),      // 1×1 stride 2, rows of 32: in place, one tap
        new ConvCase(1, 3, 8, 64, 5, 4, 2, 1, true, false),      // 4×4 stride 2, rows of 32: in place, taps one position into their phase
        new ConvCase(1, 1, 3, 8200, 2, 3, 2, 1, true, false),    // stride 2 on rows of 8,200: the split copy's row buffer off the stack
        new ConvCase(1, 4, 40, 37, 9, 3, 1, 1, true, true),      // TAESD's Cin = 4 conv_in: direct on Vector512 (a run of 32 and one of 5), GEMM elsewhere
        new ConvCase(1, 140, 5, 70, 7, 3, 1, 1, true, true),     // rows of 70: whole panels inside a row (the interior copy), K = 1260 starting blocks mid-channel
        new ConvCase(1, 24, 9, 45, 19, 3, 1, 1, true, true),     // direct: Co 19 (a last tile of 1 channel), rows of 45 (runs of 32: one of 13)
        new ConvCase(1, 8, 3, 140, 13, 3, 1, 1, true, true),     // direct, rows of 140: runs of 64 (two, then one of 12), Co 13 (tiles of 6, 6, 1)
        new ConvCase(1, 10, 5, 40, 17, 3, 1, 1, true, true),     // direct, narrow rows: Co 17 = a 12×32 tile, then a lone 6×32 one (5 channels)
        new ConvCase(2, 31, 6, 40, 8, 5, 1, 2, false, true),     // direct, 5×5: K = 775, K blocks (388) starting inside a channel's taps, padding 2
        new ConvCase(1, 33, 4, 64, 16, 3, 1, 2, true, false),    // direct, padding 2 with 3×3: rows of 66, whole staged lines outside the image
        new ConvCase(2, 12, 8, 33, 10, 1, 1, 0, true, true),     // direct 1×1: kw 1, each tap its own line
        new ConvCase(1, 64, 20, 40, 3, 3, 1, 1, true, true),     // conv_out's 3 outputs: direct (Conv2dFewOutputs), residual
        new ConvCase(2, 5, 16, 40, 1, 3, 1, 1, false, false),    // 1 output, batch 2: a run, then one starting early over its end
        new ConvCase(1, 6, 17, 70, 4, 3, 1, 2, true, true),      // 4 outputs, padding 2: two scalar columns each side, rows of 72
        new ConvCase(2, 7, 16, 20, 2, 1, 1, 0, true, true),      // a 1×1 with 2 outputs, direct
        new ConvCase(2, 23, 6, 6, 9, 5, 1, 2, true, true),       // 5×5 padding 2 on 6×6, batched from the padded copy: K = 575, block 2 inside a channel's taps
        new ConvCase(1, 130, 6, 31, 7, 3, 1, 1, true, false),    // rows of 31 (one under PaddedCopyWidth), Ci 130 (not direct): runs of 31 from the padded copy
        new ConvCase(2, 71, 8, 8, 13, 3, 1, 1, true, true),      // 8², batched: B in place from the kx-shifted copies (Vector512), K 639 in blocks starting mid-channel
        new ConvCase(1, 20, 16, 16, 9, 3, 1, 1, true, true),     // 16², per image: a half is two rows of copy kx
        new ConvCase(3, 6, 4, 8, 7, 5, 1, 2, true, false),       // 5×5 padding 2 on 4×8: planes of 32, 96 columns (not whole panels): the padded copy
        new ConvCase(2, 5, 6, 6, 11, 1, 1, 1, false, true),      // a padded 1×1 giving 8×8: one shifted copy
        new ConvCase(1, 10, 4, 8, 128, 3, 1, 1, true, true),     // a 4×8 plane, Co 128: transposed, im2colᵀ packed as A from the padded copy (shifted ones are for B)
        new ConvCase(2, 20, 16, 16, 9, 3, 1, 1, true, false),    // 16², per image at batch 2: the shifted copies remade per image
        new ConvCase(2, 3, 3, 36, 5, 3, 1, 2, true, true),       // padding 2 on rows of 38 (x itself), plane 190: batched, whole rows outside the image
        new ConvCase(1, 256, 2, 2, 128, 1, 1, 0, true, false),   // an unpadded 1×1 on 2×2, Co 128: transposed, im2colᵀ packed from x itself
        new ConvCase(1, 8, 1, 32, 128, 3, 1, 1, true, true));    // 3×3 on one row of 32: transposed from x itself, taps ky 0 and 2 outside the image

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv2dMatchesTorch(SimdPath path, ConvCase c)
    {
        var random = new Random(42);
        var s = new Conv2dShape(c.N, c.Ci, c.H, c.W, c.Co, c.Kernel, c.Kernel, c.Stride, c.Pad, c.Bias);
        var x = Numerics.Uniform(random, c.N * c.Ci * c.H * c.W);
        var w = Numerics.Uniform(random, c.Co * c.Ci * c.Kernel * c.Kernel);
        var b = c.Bias ? Numerics.Uniform(random, c.Co) : [];
        int outCount = c.N * c.Co * s.OutHeight * s.OutWidth;
        var r = c.Residual ? Numerics.Uniform(random, outCount) : [];
        float[] expected;
        using (NewDisposeScope())
        {
            var t = nn.functional.conv2d(tensor(x, [c.N, c.Ci, c.H, c.W]), tensor(w, [c.Co, c.Ci, c.Kernel, c.Kernel]),
                c.Bias ? tensor(b) : null, strides: [c.Stride, c.Stride], padding: [c.Pad, c.Pad]);
            if (c.Residual)
                t = t + tensor(r, [c.N, c.Co, s.OutHeight, s.OutWidth]);
            expected = t.data<float>().ToArray();
        }
        var expectedRelu = expected.Select(v => Math.Max(v, 0f)).ToArray();
        foreach (var packed in new[] { null, PackedWeight.ForConv(w, c.Co, s.ReductionLength, path) })
            foreach (bool relu in new[] { false, true })
            {
                var y = new float[outCount];
                Conv2dCpu.Forward(x, w, b, r, y, s, new float[Conv2dCpu.WorkspaceFloats(s)], path, packed, relu);
                Numerics.AssertClose(relu ? expectedRelu : expected, y, Fp32Conv,
                    $"cpu conv2d{(relu ? "+relu" : "")}{(packed is null ? "" : " prepacked")} {path} {c}", log);
            }
    }

    /// <summary>The direct paths with R = y (the resnets add in place): the few-outputs path's last run of a row starts
    /// early and must not add R twice to the pixels the run before it wrote; Conv2dDirect's last run is partial.</summary>
    [Theory]
    [MemberData(nameof(DirectPaths))]
    public void DirectResidualInPlace(SimdPath path, int outChannels)
    {
        var random = new Random(7);
        var s = new Conv2dShape(1, 6, 9, 70, outChannels, 3, 3, 1, 2, true);
        var x = Numerics.Uniform(random, 6 * 9 * 70);
        var w = Numerics.Uniform(random, outChannels * 6 * 9);
        var b = Numerics.Uniform(random, outChannels);
        var r = Numerics.Uniform(random, outChannels * s.OutHeight * s.OutWidth);
        var separate = new float[r.Length];
        var ws = new float[Conv2dCpu.WorkspaceFloats(s)];
        Conv2dCpu.Forward(x, w, b, r, separate, s, ws, path);
        var inPlace = (float[])r.Clone();
        Conv2dCpu.Forward(x, w, b, inPlace, inPlace, s, ws, path);
        Assert.Equal(separate, inPlace);
    }

    public static TheoryData<SimdPath, int> DirectPaths => new()
    {
        { SimdPath.Vector512, 3 }, { SimdPath.Vector256, 3 }, { SimdPath.Vector512, 11 },
    };

    /// <summary>Shapes whose arrangement changes with the batch (per image, batched, transposed), K over one K block, ReLU
    /// and residual fused: image i of a batch of 5 equals that image alone, bit for bit.</summary>
    public static TheoryData<SimdPath, ConvCase> InvarianceCases => CpuPaths.With(
        new ConvCase(5, 70, 4, 4, 37, 3, 1, 1, true, true),      // batched (N·P = 80 columns), K = 630: ReLU after three K blocks
        new ConvCase(5, 20, 3, 3, 40, 3, 1, 1, true, true),      // transposed
        new ConvCase(5, 6, 17, 16, 9, 3, 1, 1, true, true),      // per image
        new ConvCase(5, 6, 16, 40, 3, 3, 1, 1, true, true),      // few outputs (direct)
        new ConvCase(5, 20, 10, 34, 12, 3, 1, 1, true, true),    // Conv2dDirect on Vector512
        new ConvCase(5, 7, 10, 64, 9, 3, 2, 1, true, true),      // stride 2, rows of 32: B in place in the batch, packed alone (P = 160)
        new ConvCase(5, 71, 8, 8, 13, 3, 1, 1, true, true));     // 8²: B in place from the shifted copies, batched and alone

    [Theory]
    [MemberData(nameof(InvarianceCases))]
    public void FusedReluConvIsBatchInvariant(SimdPath path, ConvCase c)
    {
        var random = new Random(5);
        var s = new Conv2dShape(c.N, c.Ci, c.H, c.W, c.Co, c.Kernel, c.Kernel, c.Stride, c.Pad, c.Bias);
        var one = new Conv2dShape(1, c.Ci, c.H, c.W, c.Co, c.Kernel, c.Kernel, c.Stride, c.Pad, c.Bias);
        int inImage = c.Ci * c.H * c.W, outImage = c.Co * s.OutHeight * s.OutWidth;
        var x = Numerics.Uniform(random, c.N * inImage);
        var w = Numerics.Uniform(random, c.Co * s.ReductionLength);
        var b = Numerics.Uniform(random, c.Co);
        var r = Numerics.Uniform(random, c.N * outImage);
        var packed = PackedWeight.ForConv(w, c.Co, s.ReductionLength, path);
        var batch = new float[c.N * outImage];
        Conv2dCpu.Forward(x, w, b, r, batch, s, new float[Conv2dCpu.WorkspaceFloats(s)], path, packed, relu: true);
        Assert.Contains(batch, v => v == 0f);                    // the ReLU clipped something
        for (int i = 0; i < c.N; i++)
        {
            var single = new float[outImage];
            Conv2dCpu.Forward(x.AsSpan(i * inImage, inImage), w, b, r.AsSpan(i * outImage, outImage), single, one,
                new float[Conv2dCpu.WorkspaceFloats(one)], path, packed, relu: true);
            Assert.True(single.AsSpan().SequenceEqual(batch.AsSpan(i * outImage, outImage)), $"image {i} of {c} {path} differs alone");
        }
    }
}

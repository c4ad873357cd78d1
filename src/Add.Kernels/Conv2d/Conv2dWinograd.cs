namespace Add.Kernels.Cpu;

/// <summary>
/// A 3×3, stride-1, padding-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin &amp; Gray 2016, "Fast
/// Algorithms for Convolutional Neural Networks", §4, eq. 8): each 2×2 block of outputs ("tile") is
/// <c>Y = Aᵀ [ Σ_ci (G g Gᵀ) ⊙ (Bᵀ d B) ] A</c> with g the 3×3 filter of (co, ci) and d the 4×4 input patch around the
/// tile. Summing over ci is, for each of the 16 positions ξ of the 4×4 transformed tile, a GEMM
/// <c>M_ξ [Co, T] = U_ξ [Co, Ci] · V_ξ [Ci, T]</c>: 16 GEMMs of K = Ci do the work of one im2col GEMM of K = 9·Ci
/// producing four times as many columns, 16/36 of its multiplies (2.25× fewer). The VAE decoder's and the UNet's 3×3
/// convs at 32² and above are this shape; they were 41-63 % of the FMA peak through the im2col GEMM and as slow as libtorch.
/// <para>Legend as <see cref="Conv2dCpu"/>; T tiles per image (TH·TW, TH = ⌈Ho/2⌉, TW = ⌈Wo/2⌉, tile t = ty·TW + tx
/// covers outputs (2ty .. 2ty+1, 2tx .. 2tx+1) and reads inputs (2ty−1 .. 2ty+2, 2tx−1 .. 2tx+2), zero outside).</para>
/// <para>Work: U = G g Gᵀ for every (co, ci) is made per call from the packed weight (<see cref="PackedWeight"/>, the
/// conv's [Co, 9·Ci] panels) into the workspace, as the GEMM's A panels: [16][Ci blocks of KBlock(Ci)][⌈Co/6⌉ panels][kc][6];
/// Co·Ci·16 floats (16 MB at 512 → 512, 105 MB at 1280 → 1280: the engine's CPU backend takes such workspaces from
/// the free part of the generation's arena block, not from memory of their own); not kept, so the model holds one copy
/// of each weight. Making U per chunk of output channels instead (a bounded workspace) made the input's transform again
/// per chunk: 30-90 % slower (perf/logs/winograd-2026-12-03/chunks1.log). Then per block of <see cref="Tiles"/> tiles of one image (a core each): V_ξ = Bᵀ d B for every ci
/// (the B panels [16][Ci blocks][Tb/64 panels][kc][64]), the 16 GEMMs on that core (<see cref="GemmCpu.RunSingle"/>,
/// both operands prepacked) into M [16][Co, Tb], and Y = Aᵀ M A + b (+ R) (ReLU) into y.</para>
/// <para>Numerics: the transforms of B and A are sums and differences of two values (no products), G's are halvings; so
/// each output is the same FMA chain over ci whatever block, row or batch its tile falls in, and the vector and scalar
/// edges of the transforms compute the same expressions: an image's bytes are the same alone or in a batch. The error
/// against a direct sum is a few times fp32's (V's entries are sums of up to four inputs, M's are combined by
/// four-term sums), within the conv tests' named Winograd tolerance.</para>
/// </summary>
internal static unsafe partial class Conv2dWinograd
{
    /// <summary>Positions of the transformed 4×4 tile: one GEMM each.</summary>
    public const int Xi = 16;

    /// <summary>Output planes below this many pixels stay on the im2col GEMM: 256 tiles or fewer per image leave the 16
    /// GEMMs' columns too few for the per-call transform of the weight to pay.</summary>
    public const int MinPlane = 32 * 32;

    /// <summary>Fewer input channels than this stay on <see cref="Conv2dDirect"/> or the im2col GEMM: each GEMM's K is Ci,
    /// and below 64 the transforms cost as much as the multiplies they save.</summary>
    public const int MinInChannels = 64;

    /// <summary>Whether a conv of this shape takes this path: Vector512, a 3×3 kernel at stride 1 and padding 1 (Ho = H,
    /// Wo = W), at least <see cref="MinInChannels"/> inputs and more than <see cref="Conv2dFewOutputs"/>' outputs, on
    /// planes of at least <see cref="MinPlane"/> pixels; and the weight's panels 6 wide (the transform reads them).</summary>
    public static bool Applies(Conv2dShape s, SimdPath path) =>
        path == SimdPath.Vector512 && Shape(s) && GemmCpu.Tile(path).Mr == 6;

    private static bool Shape(Conv2dShape s) =>
        s.KernelH == 3 && s.KernelW == 3 && s.Stride == 1 && s.Padding == 1 && s.InChannels >= MinInChannels
        && s.OutChannels > Conv2dFewOutputs.MaxOutChannels && s.OutHeight * s.OutWidth >= MinPlane;

    /// <summary>Tiles per block (Tb, the GEMMs' N): 128 on large planes, 64 (one register tile's columns) on smaller
    /// ones, so that a 32² plane's 256 tiles still make four blocks for two cores.</summary>
    private static int Tiles(Conv2dShape s) => TileCount(s) >= 2048 ? 128 : 64;

    private static int TileCount(Conv2dShape s) => ((s.OutHeight + 1) / 2) * ((s.OutWidth + 1) / 2);

    private static int PaddedCo(Conv2dShape s) => (s.OutChannels + 5) / 6 * 6;

    /// <summary>A staged input line: the 2·Tb + 2 inputs one segment of tiles reads, plus a vector group's overrun.</summary>
    private static int LineStride(int tb) => 2 * tb + 48;

    /// <summary>Floats of workspace <see cref="Forward"/> needs (0 when the shape does not take this path).</summary>
    public static long WorkspaceFloats(Conv2dShape s)
    {
        if (!Shape(s))
            return 0;
        return (long)Xi * PaddedCo(s) * s.InChannels + CpuSimd.Threads * PerThreadFloats(s, Tiles(s));
    }

    /// <summary>One core's share: V [16][Ci, Tb], M [16][Co, Tb] and four staged lines.</summary>
    private static long PerThreadFloats(Conv2dShape s, int tb) => (long)Xi * tb * (s.InChannels + s.OutChannels) + 4L * LineStride(tb);

    /// <param name="panels">w packed as the GEMM's A (<see cref="PackedWeight.ForConv"/> on the Vector512 path, MR = 6)</param>
    /// <param name="workspace">at least <see cref="WorkspaceFloats"/> floats</param>
    public static void Forward(float* x, float* panels, float* bias, float* residual, float* y, Conv2dShape s, bool relu, float* workspace)
    {
        int tb = Tiles(s), tiles = TileCount(s), blocksPerImage = (tiles + tb - 1) / tb;
        var a = new Args(x, bias, residual, y, s, relu, tb, workspace);
        TransformWeights(panels, a);
        int blocks = s.Batch * blocksPerImage;
        nint scratch = (nint)(workspace + a.USize * Xi);
        long perThread = PerThreadFloats(s, tb);
        CpuWorkers.For(blocks, i =>
        {
            float* mine = (float*)scratch + CpuWorkers.Slot * perThread;
            int n = i / blocksPerImage, t0 = (i - n * blocksPerImage) * tb;
            Block(n, t0, Math.Min(tb, tiles - t0), a, mine);
        });
    }

    /// <summary>One call's pointers and sizes.</summary>
    private readonly struct Args(float* x, float* bias, float* residual, float* y, Conv2dShape s, bool relu, int tb, float* u)
    {
        public readonly float* X = x, Bias = bias, Residual = residual, Y = y, U = u;
        public readonly Conv2dShape S = s;
        public readonly bool Relu = relu;
        public readonly int Tb = tb;
        public int TW => (S.OutWidth + 1) / 2;
        public int PaddedCo => Conv2dWinograd.PaddedCo(S);
        /// <summary>Floats of one U_ξ: A panels of [Co, Ci].</summary>
        public long USize => (long)PaddedCo * S.InChannels;
        /// <summary>Floats of one V_ξ: B panels of [Ci, Tb].</summary>
        public long VSize => (long)S.InChannels * Tb;
        /// <summary>Floats of one M_ξ: [Co, Tb].</summary>
        public long MSize => (long)S.OutChannels * Tb;
    }

    /// <summary>Tiles t0 .. t0+count−1 of image n: transform the input, 16 GEMMs, transform the output.</summary>
    private static void Block(int n, int t0, int count, Args a, float* scratch)
    {
        var s = a.S;
        float* v = scratch, m = v + Xi * a.VSize, lines = m + Xi * a.MSize;
        TransformInput(n, t0, count, a, v, lines);
        for (int xi = 0; xi < Xi; xi++)
            GemmCpu.RunSingle(s.OutChannels, a.Tb, s.InChannels, new PrepackedPanels(a.U + xi * a.USize, a.PaddedCo),
                new PrepackedPanels(v + xi * a.VSize, a.Tb), m + xi * a.MSize, a.Tb, default, null, SimdPath.Vector512);
        TransformOutput(n, t0, count, a, m);
    }
}

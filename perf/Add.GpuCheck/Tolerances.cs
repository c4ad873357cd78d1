namespace Add.GpuCheck;

/// <summary>
/// The named tolerances of the GPU check (DESIGN §7: atol + rtol·|ref|, each with a reason). The expected values come
/// from the reference loops in double, so these bound the kernel's own fp32 error, on a GPU that contracts a·b + c into
/// FMAs and evaluates exp/rsqrt with approximate instructions (ex2.approx, rsqrt.approx: about 2 ulp). They start from
/// the kernel tests' constants (tests/Add.Tests/Kernels/<family>), widened where the shapes here are larger; none has
/// been measured on a device yet: results.md shows each case's margin (max err/allowed) to tighten them with.
/// </summary>
public static class Tolerances
{
    public static readonly Tolerance Norm = new("norm", 1e-5, 1e-5,
        "fp32 two-pass statistics over up to 8k values, tree-summed; y = O(1); approximate rsqrt (tests saw 4.8e-7 over 1k values)");

    public static readonly Tolerance NormSilu = new("norm_silu", 2e-5, 1e-5,
        "as norm, then one approximate exp and a division for SiLU");

    public static readonly Tolerance Attention = new("attention", 1e-5, 1e-5,
        "outputs are convex combinations of V rows (|v| <= 1): fp32 dots of D <= 64 terms, base-2 exp, sums of up to 1024 weights");

    public static readonly Tolerance Dot = new("dot", 2e-5, 1e-5,
        "fp32 dot products of up to 2304 terms with fan-in scaled weights (outputs O(1)), summed in another order than the double reference");

    public static readonly Tolerance Activation = new("activation", 2e-6, 2e-6,
        "one approximate exp (or the A&S erf polynomial) and a division per element: a few ulp of O(1) values");

    public static readonly Tolerance Exact = new("exact", 0, 0,
        "pure copies and a single fp32 add: bit-identical to the reference");

    public static readonly Tolerance Sampler = new("sampler", 3e-5, 3e-6,
        "terms up to ~150 (1/sqrt(alpha_bar) = 14.6 at t = 999, guidance 7.5) cancel; coefficients folded to fp32 (tests saw 3.1e-5 vs torch)");

    public static readonly Tolerance Timestep = new("timestep", 2e-4, 0,
        "angles t*f up to 1000 in fp32: one ulp of the angle moves sin/cos by ~6e-5");
}

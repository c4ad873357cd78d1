using static TorchSharp.torch;

namespace Add.Train.Evaluation;

/// <summary>
/// A bootstrap confidence interval for FID-emoji, the "basic" (reverse-percentile) interval of Davison &amp; Hinkley 1997,
/// "Bootstrap Methods and their Application", §5.2: B times, resample the generated and the real feature rows with
/// replacement (each set at its own size) and recompute the Fréchet distance F*; with q_a the a-quantile of the B
/// values and F the point estimate, the 95 % interval is [2F − q_0.975, 2F − q_0.025], floored at 0. Unlike the plain
/// percentile interval [q_0.025, q_0.975] it corrects FID's small-sample bias: resampling duplicates rows, F* sits above
/// F much as F sits above the true distance, and a percentile interval can miss both (on two samples of one
/// distribution it does). Seeded, so the same features give the same interval. Per resample two d×d symmetric
/// eigen-decompositions in float64 (libtorch's eigh: milliseconds at d = 128, where the Jacobi method of
/// <see cref="SymmetricEigen"/> takes seconds).
/// </summary>
public static class FidBootstrap
{
    public const int DefaultResamples = 200;
    public const double DefaultLevel = 0.95;
    public const long DefaultSeed = 0;

    /// <summary>(low, high) for features <paramref name="x"/> (n₁×d) and <paramref name="y"/> (n₂×d), row-major.</summary>
    public static (double Low, double High) Interval(double[] x, int n1, double[] y, int n2, int d,
        int resamples = DefaultResamples, double level = DefaultLevel, long seed = DefaultSeed)
    {
        if (resamples < 2) throw new ArgumentOutOfRangeException(nameof(resamples), resamples, "need at least 2 resamples");
        if (!(level > 0 && level < 1)) throw new ArgumentOutOfRangeException(nameof(level), level, "must be in (0, 1)");
        double point;
        using (var a = tensor(x, [n1, d], ScalarType.Float64))
        using (var b = tensor(y, [n2, d], ScalarType.Float64))
            point = Fid(a, b);
        var values = Resample(x, n1, y, n2, d, resamples, seed);
        Array.Sort(values);
        double qLow = Quantile(values, (1 - level) / 2), qHigh = Quantile(values, (1 + level) / 2);
        return (Math.Max(0, 2 * point - qHigh), Math.Max(0, 2 * point - qLow));
    }

    /// <summary>The B resampled FIDs, in draw order.</summary>
    public static double[] Resample(double[] x, int n1, double[] y, int n2, int d, int resamples, long seed)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var gen = new Generator((ulong)seed);
        var a = tensor(x, [n1, d], ScalarType.Float64);
        var b = tensor(y, [n2, d], ScalarType.Float64);
        var result = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            using var inner = NewDisposeScope();
            var ia = randint(0, n1, [n1], generator: gen, dtype: ScalarType.Int64);
            var ib = randint(0, n2, [n2], generator: gen, dtype: ScalarType.Int64);
            result[r] = Fid(a.index_select(0, ia), b.index_select(0, ib));
        }
        return result;
    }

    /// <summary>FID between the rows of <paramref name="a"/> and <paramref name="b"/> (float64), as
    /// <see cref="FeatureStatistics.FrechetDistance"/>: Tr((Σ₁Σ₂)^{1/2}) = Σ √λ(Σ₁^{1/2} Σ₂ Σ₁^{1/2}).</summary>
    public static double Fid(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var (m1, c1) = MeanAndCovariance(a);
        var (m2, c2) = MeanAndCovariance(b);
        var (l1, v1) = linalg.eigh(c1);
        var sqrt1 = v1.matmul(diag(l1.clamp_min(0).sqrt())).matmul(v1.t());
        var product = sqrt1.matmul(c2).matmul(sqrt1);
        product = (product + product.t()) / 2;
        double traceSqrt = linalg.eigvalsh(product).clamp_min(0).sqrt().sum().item<double>();
        double meanTerm = (m1 - m2).square().sum().item<double>();
        return meanTerm + c1.trace().item<double>() + c2.trace().item<double>() - 2 * traceSqrt;
    }

    static (Tensor Mean, Tensor Covariance) MeanAndCovariance(Tensor x)
    {
        var mean = x.mean([0]);
        var centred = x - mean;
        return (mean, centred.t().matmul(centred) / (x.shape[0] - 1));   // unbiased, as FeatureStatistics
    }

    /// <summary>Linear interpolation between order statistics (numpy's default "linear" method).</summary>
    public static double Quantile(double[] sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}

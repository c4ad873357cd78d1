using Add.Train.Evaluation;
using static TorchSharp.torch;

namespace Add.Tests.Evaluation;

/// <summary>FID-emoji's bootstrap interval: the libtorch FID it resamples equals <see cref="FeatureStatistics.Fid"/>,
/// the interval is seeded, ordered, narrows as the sets grow (about as 1/√n), and covers the true distance where the
/// plain percentile interval would not.</summary>
public class FidBootstrapTests
{
    const double FidTolerance = 1e-8;   // both in float64; eigh and Jacobi agree to ~1e-12 relative on these matrices

    static double[] Gaussian(int n, int d, int seed, double shift = 0)
    {
        var rng = new Random(seed);
        var x = new double[n * d];
        for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            x[i * d + j] = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2) * (1 + 0.3 * j) + shift;
        }
        for (int i = 0; i < n; i++) for (int j = 1; j < d; j++) x[i * d + j] += 0.5 * x[i * d + j - 1];
        return x;
    }

    [Fact]
    public void TheResampledFidIsFeatureStatisticsFid()
    {
        const int D = 6;
        var x = Gaussian(200, D, 1);
        var y = Gaussian(150, D, 2, shift: 0.4);
        double expected = FeatureStatistics.Fid(x, 200, y, 150, D);
        using var a = tensor(x, [200, D], ScalarType.Float64);
        using var b = tensor(y, [150, D], ScalarType.Float64);
        Assert.Equal(expected, FidBootstrap.Fid(a, b), FidTolerance * Math.Max(1, expected));
    }

    [Fact]
    public void TheIntervalIsSeededOrderedAndNarrowsWithMoreImages()
    {
        const int D = 4, B = 100;
        var (low, high) = FidBootstrap.Interval(Gaussian(100, D, 3), 100, Gaussian(100, D, 4, 0.5), 100, D, B);
        Assert.True(low < high, $"[{low}, {high}]");
        Assert.Equal((low, high), FidBootstrap.Interval(Gaussian(100, D, 3), 100, Gaussian(100, D, 4, 0.5), 100, D, B));
        Assert.NotEqual((low, high), FidBootstrap.Interval(Gaussian(100, D, 3), 100, Gaussian(100, D, 4, 0.5), 100, D, B, seed: 1));

        // 16× the rows: the width should shrink about 4×; 2× is a loose bound that a broken resampler fails.
        var (bigLow, bigHigh) = FidBootstrap.Interval(Gaussian(1600, D, 3), 1600, Gaussian(1600, D, 4, 0.5), 1600, D, B);
        Assert.True((high - low) > 2 * (bigHigh - bigLow), $"n 100: [{low}, {high}]; n 1600: [{bigLow}, {bigHigh}]");
        // Both sets share one covariance, so the true FID is ‖Δμ‖², Δμ following Gaussian's recurrence m_j = s + 0.5·m_{j−1}.
        double truth = 0, m = 0;
        for (int j = 0; j < D; j++) { m = 0.5 + (j == 0 ? 0 : 0.5 * m); truth += m * m; }
        Assert.InRange(truth, bigLow, bigHigh);
    }

    [Fact]
    public void TwoSamplesOfOneDistributionGetAnIntervalFromZero()
    {
        const int D = 16, N = 300;
        var (low, high) = FidBootstrap.Interval(Gaussian(N, D, 5), N, Gaussian(N, D, 6), N, D, 100);
        // The true distance, 0, is inside; a percentile interval never holds 0 (every resampled FID is positive).
        Assert.Equal(0, low);
        Assert.True(high > 0, $"[{low}, {high}]");
    }

    [Fact]
    public void QuantilesInterpolateLinearly()
    {
        double[] sorted = [1, 2, 3, 4, 5];
        Assert.Equal(1, FidBootstrap.Quantile(sorted, 0));
        Assert.Equal(5, FidBootstrap.Quantile(sorted, 1));
        Assert.Equal(1.1, FidBootstrap.Quantile(sorted, 0.025), 12);
        Assert.Equal(3, FidBootstrap.Quantile(sorted, 0.5));
    }
}

using Add.Train.Evaluation;

namespace Add.Tests.Evaluation;

public class FeatureStatisticsTests
{
    const double Tolerance = 1e-8;   // double precision; Jacobi converges to ~1e-15 relative on these small matrices

    static double[] Gaussian(int n, int d, int seed, Func<int, double>? scale = null)
    {
        var rng = new Random(seed);
        var x = new double[n * d];
        for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            x[i * d + j] = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2) * (scale?.Invoke(j) ?? 1);
        }
        // Correlate the columns so the covariance is not diagonal.
        for (int i = 0; i < n; i++) for (int j = 1; j < d; j++) x[i * d + j] += 0.5 * x[i * d + j - 1];
        return x;
    }

    [Fact]
    public void FidOfASetAgainstItselfIsZero()
    {
        var x = Gaussian(300, 7, 1);
        Assert.InRange(FeatureStatistics.Fid(x, 300, x, 300, 7), -1e-7, 1e-7);
    }

    [Fact]
    public void FidAgainstAShiftedCopyIsTheSquaredShift()
    {
        const int N = 200, D = 6;
        var x = Gaussian(N, D, 2);
        double[] shift = [1, -2, 0.5, 0, 3, -1];
        var y = (double[])x.Clone();
        for (int i = 0; i < N; i++) for (int j = 0; j < D; j++) y[i * D + j] += shift[j];
        double expected = shift.Sum(s => s * s);         // equal covariances: the trace term vanishes
        Assert.Equal(expected, FeatureStatistics.Fid(x, N, y, N, D), 6);
    }

    [Fact]
    public void FrechetDistanceMatchesTheClosedFormForDiagonalCovariances()
    {
        // N(μ₁, diag(σ₁²)) vs N(μ₂, diag(σ₂²)): ‖μ₁−μ₂‖² + Σ (σ₁ − σ₂)².
        const int D = 3;
        double[] m1 = [0, 1, 2], m2 = [1, 1, 0];
        double[] s1 = [1, 2, 3], s2 = [2, 2, 1];
        var c1 = new double[D * D]; var c2 = new double[D * D];
        for (int j = 0; j < D; j++) { c1[j * D + j] = s1[j] * s1[j]; c2[j * D + j] = s2[j] * s2[j]; }
        double expected = 1 + 0 + 4 + (1 + 0 + 4);
        Assert.Equal(expected, FeatureStatistics.FrechetDistance(m1, c1, m2, c2, D), 10);
    }

    [Fact]
    public void FrechetDistanceOfNonCommutingCovariancesMatchesTheTwoByTwoFormula()
    {
        // For 2×2 SPD A, B: Tr((AB)^{1/2}) = √(λ₁) + √(λ₂) of AB, with λ from its trace and determinant.
        double[] a = [2, 1, 1, 2], b = [1, 0, 0, 4];
        double[] ab = [2 * 1 + 1 * 0, 2 * 0 + 1 * 4, 1 * 1 + 2 * 0, 1 * 0 + 2 * 4];
        double tr = ab[0] + ab[3], det = ab[0] * ab[3] - ab[1] * ab[2];
        double traceSqrt = Math.Sqrt(tr + 2 * Math.Sqrt(det));     // (√λ₁ + √λ₂)² = tr + 2√det
        double expected = (2 + 2) + (1 + 4) - 2 * traceSqrt;
        Assert.Equal(expected, FeatureStatistics.FrechetDistance([0, 0], a, [0, 0], b, 2), 10);
    }

    [Fact]
    public void EigenDecompositionReconstructsTheMatrix()
    {
        var (_, cov) = FeatureStatistics.MeanAndCovariance(Gaussian(50, 5, 3), 50, 5);
        var (values, vectors) = SymmetricEigen.Decompose(cov, 5);
        for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++)
        {
            double r = 0;
            for (int k = 0; k < 5; k++) r += vectors[i * 5 + k] * values[k] * vectors[j * 5 + k];
            Assert.True(Math.Abs(r - cov[i * 5 + j]) < Tolerance, $"[{i},{j}] reconstructed {r}, expected {cov[i * 5 + j]}");
        }
    }

    [Fact]
    public void AccuracyAndDiversityOnHandMadeInputs()
    {
        double[] scores = [0.1, 0.9, 0.0, /**/ 0.7, 0.2, 0.1, /**/ 0.3, 0.3, 0.4, /**/ 0.5, 0.4, 0.1];
        Assert.Equal(0.75, FeatureStatistics.Top1Accuracy(scores, 4, 3, [1, 0, 2, 1]));
        // Points (0,0), (3,4), (0,4): distances 5, 4, 3 → mean 4.
        Assert.Equal(4.0, FeatureStatistics.MeanPairwiseDistance([0, 0, 3, 4, 0, 4], 3, 2), 12);
        Assert.Equal(0.0, FeatureStatistics.MeanPairwiseDistance([1, 2], 1, 2));
    }
}

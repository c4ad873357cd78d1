namespace Add.Train.Evaluation;

/// <summary>
/// Metrics on evaluator features (rows of an n×d row-major matrix, in double):
/// FID-emoji (Heusel et al. 2017): ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^{1/2}), with Tr((Σ₁Σ₂)^{1/2}) computed as
/// Σᵢ √λᵢ(Σ₁^{1/2} Σ₂ Σ₁^{1/2}) — the product is symmetric positive semi-definite, so a symmetric eigen-decomposition
/// is exact where the general matrix square root of Σ₁Σ₂ is not; and diversity as the mean pairwise L2 distance.
/// </summary>
public static class FeatureStatistics
{
    public static (double[] Mean, double[] Covariance) MeanAndCovariance(double[] x, int n, int d)
    {
        if (n < 2) throw new ArgumentException($"need at least 2 feature rows for a covariance, got {n}");
        if (x.Length != n * d) throw new ArgumentException($"expected {n}x{d} features, got {x.Length} values");
        var mean = new double[d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) mean[j] += x[i * d + j];
        for (int j = 0; j < d; j++) mean[j] /= n;
        var cov = new double[d * d];
        var row = new double[d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) row[j] = x[i * d + j] - mean[j];
            for (int a = 0; a < d; a++)
            {
                double ra = row[a];
                for (int b = a; b < d; b++) cov[a * d + b] += ra * row[b];
            }
        }
        for (int a = 0; a < d; a++)
        for (int b = a; b < d; b++)
        {
            cov[a * d + b] /= n - 1;           // unbiased, as numpy.cov and the reference FID code
            cov[b * d + a] = cov[a * d + b];
        }
        return (mean, cov);
    }

    /// <summary>Fréchet distance between N(μ₁, Σ₁) and N(μ₂, Σ₂).</summary>
    public static double FrechetDistance(double[] mean1, double[] cov1, double[] mean2, double[] cov2, int d)
    {
        double meanTerm = 0;
        for (int j = 0; j < d; j++) meanTerm += (mean1[j] - mean2[j]) * (mean1[j] - mean2[j]);
        var sqrt1 = SqrtPsd(cov1, d);
        var product = Multiply(Multiply(sqrt1, cov2, d), sqrt1, d);
        Symmetrize(product, d);
        var (values, _) = SymmetricEigen.Decompose(product, d);
        double traceSqrt = values.Sum(v => Math.Sqrt(Math.Max(v, 0)));
        double trace1 = 0, trace2 = 0;
        for (int j = 0; j < d; j++) { trace1 += cov1[j * d + j]; trace2 += cov2[j * d + j]; }
        return meanTerm + trace1 + trace2 - 2 * traceSqrt;
    }

    /// <summary>FID between two feature sets (n₁×d and n₂×d).</summary>
    public static double Fid(double[] x, int n1, double[] y, int n2, int d)
    {
        var (m1, c1) = MeanAndCovariance(x, n1, d);
        var (m2, c2) = MeanAndCovariance(y, n2, d);
        return FrechetDistance(m1, c1, m2, c2, d);
    }

    /// <summary>Mean L2 distance over all pairs of rows (0 for fewer than two rows).</summary>
    public static double MeanPairwiseDistance(double[] x, int n, int d)
    {
        if (n < 2) return 0;
        double sum = 0;
        for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
        {
            double s = 0;
            for (int k = 0; k < d; k++) { double diff = x[i * d + k] - x[j * d + k]; s += diff * diff; }
            sum += Math.Sqrt(s);
        }
        return sum / (n * (n - 1) / 2.0);
    }

    /// <summary>Top-1 accuracy of class scores (n×classes) against labels.</summary>
    public static double Top1Accuracy(double[] scores, int n, int classes, IReadOnlyList<long> labels)
    {
        if (labels.Count != n) throw new ArgumentException($"{n} score rows but {labels.Count} labels");
        int correct = 0;
        for (int i = 0; i < n; i++)
        {
            int best = 0;
            for (int c = 1; c < classes; c++) if (scores[i * classes + c] > scores[i * classes + best]) best = c;
            if (best == labels[i]) correct++;
        }
        return n == 0 ? 0 : correct / (double)n;
    }

    static double[] SqrtPsd(double[] a, int d)
    {
        var (values, vectors) = SymmetricEigen.Decompose(a, d);
        var result = new double[d * d];
        for (int k = 0; k < d; k++)
        {
            double s = Math.Sqrt(Math.Max(values[k], 0));
            if (s == 0) continue;
            for (int i = 0; i < d; i++)
            {
                double vik = vectors[i * d + k] * s;
                for (int j = 0; j < d; j++) result[i * d + j] += vik * vectors[j * d + k];
            }
        }
        return result;
    }

    static double[] Multiply(double[] a, double[] b, int d)
    {
        var c = new double[d * d];
        for (int i = 0; i < d; i++)
        for (int k = 0; k < d; k++)
        {
            double aik = a[i * d + k];
            for (int j = 0; j < d; j++) c[i * d + j] += aik * b[k * d + j];
        }
        return c;
    }

    static void Symmetrize(double[] a, int d)
    {
        for (int i = 0; i < d; i++)
        for (int j = i + 1; j < d; j++)
        {
            double m = 0.5 * (a[i * d + j] + a[j * d + i]);
            a[i * d + j] = m; a[j * d + i] = m;
        }
    }
}

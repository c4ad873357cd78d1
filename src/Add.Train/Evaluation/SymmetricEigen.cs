namespace Add.Train.Evaluation;

/// <summary>
/// Eigenvalues and eigenvectors of a real symmetric matrix by the cyclic Jacobi method (Golub &amp; Van Loan,
/// "Matrix Computations", §8.5): rotate away each off-diagonal entry in turn until the off-diagonal mass is negligible.
/// Double precision; O(d³) per sweep, a handful of sweeps for d ≤ a few hundred.
/// </summary>
public static class SymmetricEigen
{
    /// <summary>Returns (eigenvalues, eigenvectors as columns of a d×d row-major matrix) of symmetric <paramref name="a"/> (d×d row-major).</summary>
    public static (double[] Values, double[] Vectors) Decompose(double[] a, int d, int maxSweeps = 64)
    {
        if (a.Length != d * d) throw new ArgumentException($"expected a {d}x{d} matrix, got {a.Length} entries");
        if (!Array.TrueForAll(a, double.IsFinite)) throw new ArgumentException($"the {d}x{d} matrix holds NaN or infinite entries: no eigen-decomposition");
        var m = (double[])a.Clone();
        var v = new double[d * d];
        for (int i = 0; i < d; i++) v[i * d + i] = 1;
        double scale = 0;
        for (int i = 0; i < d * d; i++) scale += m[i] * m[i];
        double threshold = 1e-30 * Math.Max(scale, 1e-300);
        for (int sweep = 0; sweep < maxSweeps; sweep++)
        {
            double off = 0;
            for (int p = 0; p < d; p++) for (int q = p + 1; q < d; q++) off += m[p * d + q] * m[p * d + q];
            if (off <= threshold) break;
            for (int p = 0; p < d; p++)
            for (int q = p + 1; q < d; q++)
            {
                double apq = m[p * d + q];
                if (Math.Abs(apq) < 1e-300) continue;
                double theta = (m[q * d + q] - m[p * d + p]) / (2 * apq);
                double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                if (theta == 0) t = 1;
                double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < d; k++)   // rotate columns p and q
                {
                    double mkp = m[k * d + p], mkq = m[k * d + q];
                    m[k * d + p] = c * mkp - s * mkq;
                    m[k * d + q] = s * mkp + c * mkq;
                }
                for (int k = 0; k < d; k++)   // rotate rows p and q
                {
                    double mpk = m[p * d + k], mqk = m[q * d + k];
                    m[p * d + k] = c * mpk - s * mqk;
                    m[q * d + k] = s * mpk + c * mqk;
                }
                for (int k = 0; k < d; k++)
                {
                    double vkp = v[k * d + p], vkq = v[k * d + q];
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
        var values = new double[d];
        for (int i = 0; i < d; i++) values[i] = m[i * d + i];
        return (values, v);
    }
}

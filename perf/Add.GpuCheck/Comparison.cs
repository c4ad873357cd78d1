namespace Add.GpuCheck;

/// <summary>
/// How far one output is from its expected values under a tolerance: the largest |err|, the largest err/allowed
/// (≤ 1 passes; the margin shows in passing runs too), the worst element and how many elements fail. NaN (an element
/// never written, or a NaN computed) counts as an infinite error.
/// </summary>
public sealed record Comparison(string Output, long Count, double MaxAbsError, double MaxRatio, long WorstIndex,
    double WorstExpected, double WorstActual, long Failures)
{
    public bool Passed => Failures == 0;

    public static Comparison Of(string output, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, Tolerance tolerance)
    {
        if (expected.Length != actual.Length)
            throw new ArgumentException($"{output}: {actual.Length} values, expected {expected.Length}");
        double maxAbs = 0, maxRatio = 0;
        long worst = 0, failures = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], err = Math.Abs((double)actual[i] - e);
            if (double.IsNaN(err))
                err = double.PositiveInfinity;
            double allowed = tolerance.Allowed(e);
            double ratio = err == 0 ? 0 : allowed == 0 ? double.PositiveInfinity : err / allowed;
            if (err > allowed)
                failures++;
            maxAbs = Math.Max(maxAbs, err);
            if (ratio > maxRatio || (i == 0 && ratio == 0))
            {
                maxRatio = Math.Max(maxRatio, ratio);
                worst = i;
            }
        }
        return new Comparison(output, expected.Length, maxAbs, maxRatio, worst, expected[(int)worst], actual[(int)worst], failures);
    }
}

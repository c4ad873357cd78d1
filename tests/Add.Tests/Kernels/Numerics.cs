using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace Add.Tests.Kernels;

/// <summary>An elementwise tolerance |actual − expected| ≤ Atol + Rtol·|expected|.</summary>
public readonly record struct Tolerance(double Atol, double Rtol)
{
    public double Allowed(double expected) => Atol + Rtol * Math.Abs(expected);
}

/// <summary>Comparison helpers for kernel outputs against a reference.</summary>
public static class Numerics
{
    /// <summary>
    /// Asserts every element is within <paramref name="tolerance"/> of the reference; on failure lists the first
    /// few offending indices with expected and actual values. Logs the largest absolute error and the largest
    /// error as a fraction of the allowance, so the margin is visible in passing runs too.
    /// </summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, Tolerance tolerance, string what, ITestOutputHelper? log = null)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        double maxAbs = 0, maxRatio = 0;
        int bad = 0;
        var report = new StringBuilder();
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            double err = Math.Abs(a - e);
            double allowed = tolerance.Allowed(e);
            if (double.IsNaN(err))
                err = double.PositiveInfinity;
            maxAbs = Math.Max(maxAbs, err);
            maxRatio = Math.Max(maxRatio, err / allowed);
            if (err > allowed)
            {
                if (bad < 10)
                    report.AppendLine(CultureInfo.InvariantCulture, $"  [{i}] expected {e:R} actual {a:R} |err| {err:E3} > allowed {allowed:E3}");
                bad++;
            }
        }
        string summary = string.Create(CultureInfo.InvariantCulture,
            $"{what}: {expected.Length} values, max |err| {maxAbs:E3}, max err/allowed {maxRatio:F3} (atol {tolerance.Atol:E1}, rtol {tolerance.Rtol:E1})");
        log?.WriteLine(summary);
        Assert.True(bad == 0, $"{summary}; {bad} out of tolerance:\n{report}");
    }

    /// <summary>Seeded uniform values in [lo, hi).</summary>
    public static float[] Uniform(Random random, int count, float lo = -1f, float hi = 1f)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = lo + (hi - lo) * random.NextSingle();
        return values;
    }

    /// <summary>Seeded standard normal values (Box-Muller).</summary>
    public static float[] Normal(Random random, int count, float mean = 0f, float std = 1f)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            values[i] = mean + std * (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }
        return values;
    }
}

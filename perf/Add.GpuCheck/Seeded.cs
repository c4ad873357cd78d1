namespace Add.GpuCheck;

/// <summary>Seeded input values. Each case draws from its own <see cref="Random"/>(seed), so cases do not depend on each other's order.</summary>
public static class Seeded
{
    /// <summary>Uniform values in [lo, hi).</summary>
    public static float[] Uniform(Random random, long count, float lo = -1f, float hi = 1f)
    {
        var values = new float[count];
        for (long i = 0; i < count; i++)
            values[i] = lo + (hi - lo) * random.NextSingle();
        return values;
    }

    /// <summary>Normal values N(mean, std²) by Box-Muller.</summary>
    public static float[] Normal(Random random, long count, float mean = 0f, float std = 1f)
    {
        var values = new float[count];
        for (long i = 0; i < count; i++)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            values[i] = mean + std * (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }
        return values;
    }

    /// <summary>
    /// Weights as torch initialises a layer with fan-in K (kaiming uniform, a = √5): U(−1/√K, 1/√K). Keeps GEMM and conv
    /// outputs O(1), as in the trained model, so absolute tolerances mean the same at every K.
    /// </summary>
    public static float[] FanIn(Random random, long count, long fanIn)
    {
        float bound = (float)(1.0 / Math.Sqrt(fanIn));
        return Uniform(random, count, -bound, bound);
    }

    /// <summary>A stable per-case seed from the run seed and the case name (string.GetHashCode is randomised per process).</summary>
    public static int For(int seed, string name)
    {
        unchecked
        {
            int h = seed;
            foreach (char c in name)
                h = h * 31 + c;
            return h & int.MaxValue;
        }
    }
}

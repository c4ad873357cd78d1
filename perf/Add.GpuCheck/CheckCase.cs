using System.Globalization;
using System.Text.Json.Serialization;

namespace Add.GpuCheck;

/// <summary>An elementwise tolerance |actual − expected| ≤ Atol + Rtol·|expected|, named, with the reason for its size.</summary>
public sealed record Tolerance(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("atol")] double Atol,
    [property: JsonPropertyName("rtol")] double Rtol,
    [property: JsonPropertyName("reason")] string Reason)
{
    public double Allowed(double expected) => Atol + Rtol * Math.Abs(expected);
}

/// <summary>A named fp32 tensor of a case: its shape, and its values while in memory (not written to the manifest).</summary>
public sealed record CaseTensor(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("shape")] long[] Shape)
{
    [JsonIgnore] public float[] Values { get; init; } = [];

    [JsonIgnore] public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    [JsonIgnore] public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// One check: a kernel family at one shape of the shipped model, with its seeded inputs and the reference loop's
/// outputs. Serialized (without the values) as an entry of manifest.json; values live in <see cref="File"/>
/// (safetensors: "input.NAME" and "expected.NAME").
/// </summary>
public sealed record CheckCase
{
    /// <summary>Unique, file-name safe: "unet.b2.attn1.self.8x8".</summary>
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>Kernel family: one of <see cref="KernelFamilies.Bind"/>'s keys.</summary>
    [JsonPropertyName("kernel")] public required string Kernel { get; init; }

    /// <summary>Where in the model this shape runs, for the report.</summary>
    [JsonPropertyName("where")] public required string Where { get; init; }

    /// <summary>Human-readable shape, e.g. "x [2, 64, 8, 8], G 32, SiLU".</summary>
    [JsonPropertyName("shape")] public required string Shape { get; init; }

    /// <summary>Sizes and options the family's launcher reads (N, C, H, W, G, eps, ...).</summary>
    [JsonPropertyName("params")] public required Dictionary<string, double> Params { get; init; }

    [JsonPropertyName("inputs")] public required List<CaseTensor> Inputs { get; init; }

    [JsonPropertyName("outputs")] public required List<CaseTensor> Outputs { get; init; }

    [JsonPropertyName("tolerance")] public required Tolerance Tolerance { get; init; }

    /// <summary>Floating-point operations of one launch by the formula (2·M·N·K for GEMMs); 0 for pure copies.</summary>
    [JsonPropertyName("flops")] public required double Flops { get; init; }

    /// <summary>Minimum global-memory traffic of one launch: every input read once, every output written once.</summary>
    [JsonPropertyName("bytes")] public required double Bytes { get; init; }

    /// <summary>"flops" for compute-bound kernels (reported in GFLOP/s), "bytes" for memory-bound ones (GB/s).</summary>
    [JsonPropertyName("metric")] public required string Metric { get; init; }

    /// <summary>The case's safetensors file, relative to the data folder.</summary>
    [JsonPropertyName("file")] public string File => $"cases/{Name}.safetensors";

    public int IntParam(string key) => Params.TryGetValue(key, out var v) ? checked((int)v)
        : throw new KeyNotFoundException($"case {Name}: no parameter '{key}'");

    public double DoubleParam(string key) => Params.TryGetValue(key, out var v) ? v
        : throw new KeyNotFoundException($"case {Name}: no parameter '{key}'");

    public bool Flag(string key) => Params.TryGetValue(key, out var v) && v != 0;

    public static string Dims(params long[] shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>A tensor with its values: <c>T("x", values, 2, 64, 8, 8)</c>.</summary>
    public static CaseTensor T(string name, float[] values, params long[] shape)
    {
        var tensor = new CaseTensor(name, shape) { Values = values };
        if (tensor.Count != values.Length)
            throw new ArgumentException($"tensor {name}: shape {tensor.ShapeText} has {tensor.Count} elements, values {values.Length}");
        return tensor;
    }

    /// <summary>A case whose <see cref="Bytes"/> is every input read once and every output written once, in fp32.</summary>
    public static CheckCase Create(string name, string kernel, string where, string shape, Dictionary<string, double> parameters,
        CaseTensor[] inputs, CaseTensor[] outputs, Tolerance tolerance, double flops, string metric) => new()
    {
        Name = name,
        Kernel = kernel,
        Where = where,
        Shape = shape,
        Params = parameters,
        Inputs = [.. inputs],
        Outputs = [.. outputs],
        Tolerance = tolerance,
        Flops = flops,
        Bytes = 4.0 * (inputs.Sum(t => t.Count) + outputs.Sum(t => t.Count)),
        Metric = metric,
    };

    public static string Num(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}

/// <summary>manifest.json: every case of a prepared data folder.</summary>
public sealed record Manifest
{
    [JsonPropertyName("format")] public int Format { get; init; } = 1;
    [JsonPropertyName("seed")] public required int Seed { get; init; }
    [JsonPropertyName("created_utc")] public required string CreatedUtc { get; init; }
    [JsonPropertyName("note")] public string Note { get; init; } =
        "Inputs are seeded; expected outputs come from the plain reference loops of Add.Kernels (the *Reference classes) on the CPU (double accumulation). " +
        "A value passes when |actual - expected| <= atol + rtol*|expected|.";
    [JsonPropertyName("cases")] public required List<CheckCase> Cases { get; init; }
}

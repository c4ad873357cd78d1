using System.Text;
using System.Text.Json;

namespace Add.Engine.SafeTensors;

/// <summary>
/// Parses and validates the JSON header of a safetensors file.
/// Layout: 8-byte little-endian header length N | N bytes of UTF-8 JSON | data section.
/// The header maps tensor names to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to
/// the data section) plus an optional "__metadata__" object of string values.
/// Every promise of the format is checked here so the reader never reads outside the data section.
/// </summary>
public static class SafeTensorsHeader
{
    /// <summary>Largest header accepted (the reference implementation's bound).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Key of the optional string-to-string metadata object.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>Validates <paramref name="header"/> against a data section of <paramref name="dataLength"/> bytes.</summary>
    /// <param name="source">File name used in messages.</param>
    /// <exception cref="SafeTensorsFormatException">on any broken promise, with a specific message.</exception>
    public static (List<SafeTensorInfo> Tensors, Dictionary<string, string> Metadata) Parse(
        ReadOnlySpan<byte> header, long dataLength, string source)
    {
        if (!System.Text.Unicode.Utf8.IsValid(header))
            throw Fail(source, "header is not valid UTF-8");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw Fail(source, $"header is not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw Fail(source, $"header must be a JSON object, found {doc.RootElement.ValueKind}");

            var tensors = new List<SafeTensorInfo>();
            var metadata = new Dictionary<string, string>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw Fail(source, $"duplicate name '{property.Name}' in header");
                if (property.Name == MetadataKey)
                    ReadMetadata(property.Value, metadata, source);
                else
                    tensors.Add(ReadTensor(property.Name, property.Value, source));
            }
            CheckRanges(tensors, dataLength, source);
            return (tensors, metadata);
        }
    }

    static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Fail(source, $"'{MetadataKey}' must be an object of strings, found {value.ValueKind}");
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw Fail(source, $"'{MetadataKey}' entry '{entry.Name}' must be a string, found {entry.Value.ValueKind}");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                throw Fail(source, $"duplicate key '{entry.Name}' in '{MetadataKey}'");
        }
    }

    static SafeTensorInfo ReadTensor(string name, JsonElement value, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Fail(source, $"tensor '{name}': entry must be an object, found {value.ValueKind}");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Fail(source, $"tensor '{name}': missing or non-string 'dtype'");
        var dtypeText = dtypeElement.GetString()!;
        if (!SafeTensorsDTypes.TryParse(dtypeText, out var dtype))
            throw Fail(source, $"tensor '{name}': unknown dtype '{dtypeText}'");

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Fail(source, $"tensor '{name}': missing or non-array 'shape'");
        var shape = new long[shapeElement.GetArrayLength()];
        int i = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var d) || d < 0)
                throw Fail(source, $"tensor '{name}': shape entry {i} is {dim.GetRawText()}, expected a non-negative integer");
            shape[i++] = d;
        }

        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw Fail(source, $"tensor '{name}': 'data_offsets' must be an array of two integers");
        var begin = ReadOffset(offsets[0], name, "begin", source);
        var end = ReadOffset(offsets[1], name, "end", source);
        if (end < begin)
            throw Fail(source, $"tensor '{name}': data_offsets end {end} is before begin {begin}");

        long elements = 1;
        try
        {
            foreach (var d in shape) elements = checked(elements * d);
            var expected = checked(elements * SafeTensorsDTypes.SizeOf(dtype));
            if (expected != end - begin)
                throw Fail(source, $"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtypeText} needs {expected} bytes but data_offsets [{begin}, {end}] hold {end - begin}");
        }
        catch (OverflowException)
        {
            throw Fail(source, $"tensor '{name}': shape [{string.Join(", ", shape)}] has too many elements");
        }
        return new SafeTensorInfo(name, dtype, shape, begin, end);
    }

    static long ReadOffset(JsonElement e, string name, string which, string source)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out var v) || v < 0)
            throw Fail(source, $"tensor '{name}': data_offsets {which} is {e.GetRawText()}, expected a non-negative integer");
        return v;
    }

    /// <summary>The byte ranges must tile the data section exactly: no byte outside it, no overlap, no gap.</summary>
    static void CheckRanges(List<SafeTensorInfo> tensors, long dataLength, string source)
    {
        foreach (var t in tensors)
        {
            if (t.End > dataLength)
                throw Fail(source, $"truncated or corrupt: tensor '{t.Name}': data_offsets [{t.Begin}, {t.End}] lie outside the {dataLength}-byte data section");
        }
        var sorted = tensors.OrderBy(t => t.Begin).ThenBy(t => t.End).ToList();
        long position = 0;
        string previous = "start of data section";
        foreach (var t in sorted)
        {
            if (t.Begin < position)
                throw Fail(source, $"tensor '{t.Name}': data_offsets [{t.Begin}, {t.End}] overlap the previous tensor ({previous}, ends at {position})");
            if (t.Begin > position)
                throw Fail(source, $"gap of {t.Begin - position} bytes before tensor '{t.Name}' (after {previous})");
            position = t.End;
            previous = $"'{t.Name}'";
        }
        if (position != dataLength)
            throw Fail(source, $"data section has {dataLength - position} bytes after the last tensor that no tensor covers");
    }

    internal static SafeTensorsFormatException Fail(string source, string problem, Exception? inner = null)
        => new($"{source}: {problem}", inner);

    /// <summary>Encodes the header JSON for <paramref name="tensors"/>, padded with spaces so the data starts 8-byte aligned.</summary>
    public static byte[] Encode(IEnumerable<SafeTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (metadata.Count > 0)
            {
                w.WriteStartObject(MetadataKey);
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            foreach (var t in tensors)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.DType.ToString());
                w.WriteStartArray("shape");
                foreach (var d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(t.Begin);
                w.WriteNumberValue(t.End);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        var json = buffer.ToArray();
        int padded = (json.Length + 7) / 8 * 8;
        var result = new byte[padded];
        json.CopyTo(result, 0);
        result.AsSpan(json.Length).Fill((byte)' ');
        return result;
    }
}

namespace Add.Engine.SafeTensors;

/// <summary>One tensor of a safetensors file: name, dtype, shape, and its byte range within the data section.</summary>
public sealed record SafeTensorInfo(string Name, SafeTensorsDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>Number of elements (product of the shape; 1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Size in bytes of the tensor's data.</summary>
    public long ByteLength => End - Begin;

    /// <summary>Shape as "[a, b, c]" for messages.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

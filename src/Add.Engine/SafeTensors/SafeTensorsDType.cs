namespace Add.Engine.SafeTensors;

/// <summary>Element types of the safetensors format, spelled as in its header ("F32", "BF16", ...).</summary>
public enum SafeTensorsDType
{
    F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL,
}

/// <summary>Sizes and names of <see cref="SafeTensorsDType"/>.</summary>
public static class SafeTensorsDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.F64 or SafeTensorsDType.I64 or SafeTensorsDType.U64 => 8,
        SafeTensorsDType.F32 or SafeTensorsDType.I32 or SafeTensorsDType.U32 => 4,
        SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.I16 or SafeTensorsDType.U16 => 2,
        SafeTensorsDType.I8 or SafeTensorsDType.U8 or SafeTensorsDType.BOOL => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype"),
    };

    /// <summary>Parses a header dtype string; exact, case-sensitive match as the format specifies.</summary>
    public static bool TryParse(string text, out SafeTensorsDType dtype)
    {
        foreach (var value in Enum.GetValues<SafeTensorsDType>())
        {
            if (value.ToString() == text) { dtype = value; return true; }
        }
        dtype = default;
        return false;
    }
}

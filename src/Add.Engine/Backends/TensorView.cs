namespace Add.Engine.Backends;

/// <summary>Memory a backend owns: a flat float array on the host (CPU backend) or on an accelerator (ILGPU).</summary>
public abstract class DeviceBuffer : IDisposable
{
    protected DeviceBuffer(long length) => Length = length;

    /// <summary>Capacity in floats.</summary>
    public long Length { get; }

    /// <summary>The whole buffer as a view.</summary>
    public TensorView View => new(this, 0, Length);

    public abstract void Dispose();
}

/// <summary>
/// A contiguous range of floats inside a <see cref="DeviceBuffer"/>. Ops take views; shapes travel as ints beside them
/// (layouts are the model code's business and are written in comments there, as in llm.c).
/// </summary>
public readonly record struct TensorView(DeviceBuffer? Buffer, long Offset, long Length)
{
    /// <summary>No tensor (an absent bias or residual).</summary>
    public static TensorView Empty => default;

    public bool IsEmpty => Length == 0;

    /// <summary>Floats [offset, offset + length) of this view.</summary>
    public TensorView Slice(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"slice [{offset}, {offset + length}) outside a view of {Length}");
        return new(Buffer, Offset + offset, length);
    }

    /// <summary>Part i of <paramref name="parts"/> equal parts (e.g. the unconditional and conditional halves of a CFG batch).</summary>
    public TensorView Part(int i, int parts) => Slice(Length / parts * i, Length / parts);
}

namespace Add.Kernels;

/// <summary>
/// The argument checks every kernel launcher shares (reference, CPU and ILGPU versions alike), so a wrong buffer gets the
/// same message from each backend.
/// </summary>
public static class KernelArgs
{
    /// <summary>Throws unless buffer <paramref name="name"/> has exactly <paramref name="expected"/> elements.</summary>
    public static void Length(string name, long actual, long expected)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has {actual} elements, expected {expected}");
    }

    /// <summary><paramref name="length"/> as the int index of a one-thread-per-element kernel, or an exception past int.MaxValue.</summary>
    public static int Index(long length) =>
        length <= int.MaxValue ? (int)length : throw new ArgumentException($"{length} elements exceed the kernels' int index");
}

using ILGPU;
using ILGPU.Runtime;

namespace Add.GpuCheck;

/// <summary>
/// The device buffers of one case by tensor name: inputs uploaded from the case file, outputs filled with NaN so an
/// element the kernel never writes fails the check instead of matching a zero.
/// </summary>
public sealed class DeviceTensors : IDisposable
{
    private readonly Dictionary<string, MemoryBuffer1D<float, Stride1D.Dense>> _buffers = new(StringComparer.Ordinal);

    public DeviceTensors(Accelerator accelerator, CheckCase spec, IReadOnlyDictionary<string, float[]> inputs)
    {
        try
        {
            foreach (var input in spec.Inputs)
                _buffers.Add(input.Name, accelerator.Allocate1D(inputs[input.Name]));
            foreach (var output in spec.Outputs)
            {
                var nan = new float[output.Count];
                Array.Fill(nan, float.NaN);
                _buffers.Add(output.Name, accelerator.Allocate1D(nan));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The whole buffer of tensor <paramref name="name"/>.</summary>
    public ArrayView<float> this[string name] => _buffers.TryGetValue(name, out var buffer) ? buffer.View
        : throw new KeyNotFoundException($"no device tensor '{name}'");

    /// <summary>Copies an output back to the host (synchronous).</summary>
    public float[] Read(string name) => _buffers[name].GetAsArray1D();

    public void Dispose()
    {
        foreach (var buffer in _buffers.Values)
            buffer.Dispose();
        _buffers.Clear();
    }
}

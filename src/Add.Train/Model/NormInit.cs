using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Add.Train.Model;

/// <summary>
/// Sets every GroupNorm and LayerNorm to the identity affine (weight 1, bias 0). TorchSharp 0.107.0's GroupNorm can
/// leave its affine parameters uninitialised (NaN seen here at construction), so every model calls this once.
/// </summary>
public static class NormInit
{
    public static void Apply(nn.Module root)
    {
        using var _ = no_grad();
        foreach (var (_, module) in root.named_modules())
        {
            if (module is GroupNorm or LayerNorm)
            {
                foreach (var (name, p) in module.named_parameters(recurse: false))
                    Identity(name, p);
            }
        }
    }

    /// <summary>A norm's "weight" ← 1, its "bias" ← 0. The 1 goes through a Scalar held until fill_ returns, not an implicit
    /// one: TorchSharp 0.107's implicit Scalar is unreachable once its handle is read, so a GC on another thread can
    /// finalize it while libtorch still reads it (dotnet/TorchSharp#1434). This loop runs once per norm parameter of every
    /// model built, and failed an Add.Perf e2e run that way ("Expected false to be true" from c10's Scalar::toFloat).</summary>
    public static void Identity(string name, Tensor p)
    {
        if (name == "weight")
        {
            using var one = 1.0f.ToScalar();
            p.fill_(one);
        }
        else if (name == "bias")
            p.zero_();
    }
}

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
                {
                    if (name == "weight") p.fill_(1.0f);
                    else if (name == "bias") p.zero_();
                }
            }
        }
    }
}

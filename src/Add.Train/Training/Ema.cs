using TorchSharp;
using static TorchSharp.torch;

namespace Add.Train.Training;

/// <summary>Exponential moving average of a module's parameters into a twin module: ema ← d·ema + (1 − d)·θ.</summary>
public static class Ema
{
    public static void Update(nn.Module ema, nn.Module model, double decay)
    {
        using var _ = no_grad();
        // Scalars held for the loop, not implicit ones per parameter: TorchSharp 0.107 can finalize an implicit Scalar
        // while libtorch still reads it (dotnet/TorchSharp#1434; see NormInit.Identity).
        using var d = decay.ToScalar();
        using var rest = (1 - decay).ToScalar();
        var target = ema.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in model.named_parameters())
            target[name].mul_(d).add_(p.detach(), alpha: rest);
    }

    public static void Copy(nn.Module to, nn.Module from)
    {
        using var _ = no_grad();
        var target = to.state_dict();
        foreach (var (name, t) in from.state_dict()) target[name].copy_(t);
    }
}

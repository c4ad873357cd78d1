using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Add.Train.Training;

/// <summary>
/// Counts multiply-add FLOPs (2 per MAC) of every Conv2d and Linear during one forward call, through forward hooks.
/// The attention score and value products (softmax(QKᵀ)V) are not counted: at the latent size here (≤ 64 positions)
/// they are a few percent of the total, and the report says so.
/// </summary>
public static class FlopCounter
{
    public static long Count(nn.Module root, Action forward)
    {
        long flops = 0;
        var removers = new List<Action>();
        foreach (var (_, module) in root.named_modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    var hc = conv.register_forward_hook((m, input, output) =>
                    {
                        var w = conv.weight!;   // (Cout, Cin/groups, kh, kw)
                        flops += 2 * output.numel() * w.shape[1] * w.shape[2] * w.shape[3];
                        return output;
                    });
                    removers.Add(hc.remove);
                    break;
                case Linear linear:
                    var hl = linear.register_forward_hook((m, input, output) =>
                    {
                        flops += 2 * output.numel() * linear.weight!.shape[1];
                        return output;
                    });
                    removers.Add(hl.remove);
                    break;
            }
        }
        try
        {
            using var _ = no_grad();
            forward();
        }
        finally
        {
            foreach (var remove in removers) remove();
        }
        return flops;
    }
}

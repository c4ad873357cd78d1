using static TorchSharp.torch;

namespace Add.Train.Training;

/// <summary>Distillation-target weighting c(t) (ADD §3.1, Eq. 4 and App. "choice of c(t)").</summary>
public enum DistillWeighting
{
    /// <summary>c(t) = ᾱ_t: exponential-like decay that trusts the teacher most at low noise (the paper's default).</summary>
    Exp,
    /// <summary>c(t) chosen so the gradient of L_distill equals score distillation sampling (Poole et al. 2022).</summary>
    Sds,
}

/// <summary>The losses of Adversarial Diffusion Distillation (Sauer et al. 2023).</summary>
public static class AddLosses
{
    /// <summary>
    /// c(t) for a timestep with ᾱ_t, in the forward-process notation x_t = α_t x_0 + σ_t ε (α_t = √ᾱ_t, σ_t = √(1−ᾱ_t)).
    /// exp: c(t) = ᾱ_t.
    /// sds: the teacher's x̂ψ = (x_t − σ_t ε̂ψ)/α_t with x_t = α_t x̂θ + σ_t ε gives x̂θ − x̂ψ = (σ_t/α_t)(ε̂ψ − ε), so
    /// ∇θ c(t)‖x̂θ − x̂ψ‖² = 2c(t)(σ_t/α_t)(ε̂ψ − ε)·∂x̂θ/∂θ. SDS's gradient is w(t)(ε̂ψ − ε)·∂x̂θ/∂θ (Poole et al. 2022, Eq. 3),
    /// so c(t) = w(t)·α_t/(2σ_t); with w(t) = σ_t² this is c(t) = α_t·σ_t/2.
    /// </summary>
    public static double Weight(DistillWeighting weighting, double alphaBar) => weighting switch
    {
        DistillWeighting.Exp => alphaBar,
        DistillWeighting.Sds => Math.Sqrt(alphaBar) * Math.Sqrt(1 - alphaBar) / 2,
        _ => throw new ArgumentOutOfRangeException(nameof(weighting)),
    };

    /// <summary>Discriminator hinge loss summed over heads, each averaged over batch and tokens:
    /// Σ_k E[max(0, 1 − D_k(real))] + E[max(0, 1 + D_k(fake))] (Lim &amp; Ye 2017; ADD Eq. 3).</summary>
    public static Tensor HingeDiscriminator(IReadOnlyList<Tensor> real, IReadOnlyList<Tensor> fake)
    {
        using var scope = NewDisposeScope();
        Tensor total = zeros(1);
        for (int k = 0; k < real.Count; k++)
            total = total + nn.functional.relu(1 - real[k]).mean() + nn.functional.relu(1 + fake[k]).mean();
        return total.squeeze().MoveToOuterDisposeScope();
    }

    /// <summary>Generator adversarial loss L_adv^G = −Σ_k E[D_k(F_k(x̂θ))] (ADD Eq. 2).</summary>
    public static Tensor AdversarialGenerator(IReadOnlyList<Tensor> fake)
    {
        using var scope = NewDisposeScope();
        Tensor total = zeros(1);
        foreach (var f in fake) total = total - f.mean();
        return total.squeeze().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// R1 penalty (Mescheder et al. 2018), on the heads' input features of real images (ADD §3.2):
    /// R1 = Σ_k E_n[‖∂(Σ_l D_k(f_k)_{n,l}) / ∂f_k‖²]. The graph is kept so the penalty can be backpropagated.
    /// </summary>
    public static Tensor R1(IReadOnlyList<Tensor> logits, IReadOnlyList<Tensor> features)
    {
        var outputs = logits.Select(l => l.sum()).ToList();
        var grads = autograd.grad(outputs, features.ToList(), retain_graph: true, create_graph: true);
        Tensor total = zeros(1);
        foreach (var g in grads) total = total + g.pow(2).flatten(1).sum(1).mean();
        return total.squeeze();
    }
}

namespace HessianML.Systems.Diffusion;

/// <summary>
/// A generative model seen from its latent space: a map latent (R^LatentDimension) -> sample (R^OutputDimension).
/// This is the one door every generator comes through (the known-score diffusion here, a real model such as an ONNX
/// Stable Diffusion later), so slices, datasets, phase maps and Lipschitz probes never care which model is behind it.
/// </summary>
/// <remarks>
/// Contract:
/// <list type="bullet">
/// <item><see cref="Generate"/> must be safe to call concurrently from several threads (datasets generate rows in
/// parallel), so an implementation keeps no mutable state between calls.</item>
/// <item>A stochastic generator draws ALL its randomness from <c>noiseStream</c> (together with its own seed), so the
/// same (latent, noiseStream) gives the same sample on any thread, in any order: dataset row i passes i.</item>
/// <item>A deterministic generator (<see cref="IsDeterministic"/>) ignores <c>noiseStream</c>; then the output is a
/// function of the latent alone, which is what finite-difference probes need.</item>
/// </list>
/// Latents and samples are doubles: finite differences down to 1e-6 in slice coordinates and bisection to 1e-9 need
/// the precision; a float model converts at its own boundary.
/// </remarks>
public interface IGenerator
{
    /// <summary>Length of the latent vector (the initial noise x_T for a diffusion model).</summary>
    int LatentDimension { get; }

    /// <summary>Length of the generated sample (e.g. 3 * H * W for an RGB image).</summary>
    int OutputDimension { get; }

    /// <summary>True when the output depends on the latent only (DDIM with eta = 0): the noise stream is ignored.</summary>
    bool IsDeterministic { get; }

    /// <summary>
    /// Writes the sample generated from <paramref name="latent"/> into <paramref name="output"/>. Lengths must be
    /// <see cref="LatentDimension"/> and <see cref="OutputDimension"/> (an <see cref="ArgumentException"/> otherwise).
    /// </summary>
    void Generate(ReadOnlySpan<double> latent, Span<double> output, ulong noiseStream);
}

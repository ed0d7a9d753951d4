namespace HessianML.Systems.Diffusion;

/// <summary>
/// A 2D slice of latent space (paper section 4.2, METHOD §6): z(a, b) = z0 + a (z1 - z0) + b (z2 - z0), a, b in
/// [0, 1] for the paper's square (any a, b are accepted, for zooms that reach past its edges), then rescaled to unit
/// standard deviation.
/// </summary>
/// <remarks>
/// The rescaling. The paper says only "to prevent our interpolation to fall off the Gaussian hypersphere ... we
/// employed a normalization of latent vector z"; METHOD §6 reads the released code as "rescaled to unit standard
/// deviation". We take that literally: z / std(z), with std the sample standard deviation of z's own d entries about
/// their mean, with the d - 1 denominator (torch.Tensor.std's default), and the mean NOT subtracted from z. For
/// N(0, I) latents this puts |z| back at about sqrt(d), the radius typical of the latent law, where a plain
/// interpolation would fall inside it (at the centre of the triangle, |z| is about sqrt(d / 3)). Set
/// <c>normalize: false</c> for the raw affine slice.
/// </remarks>
public sealed class LatentSlice
{
    private readonly double[] _z0, _z1, _z2;

    /// <summary>Latent dimension d.</summary>
    public int Dimension => _z0.Length;

    /// <summary>Whether z(a, b) is rescaled to unit standard deviation.</summary>
    public bool Normalize { get; }

    public ReadOnlySpan<double> Z0 => _z0;

    public ReadOnlySpan<double> Z1 => _z1;

    public ReadOnlySpan<double> Z2 => _z2;

    /// <summary>A slice through three given latents (copied).</summary>
    public LatentSlice(ReadOnlySpan<double> z0, ReadOnlySpan<double> z1, ReadOnlySpan<double> z2, bool normalize = true)
    {
        if (z0.Length < 1 || z1.Length != z0.Length || z2.Length != z0.Length)
            throw new ArgumentException($"slice latents must have one common positive length; got {z0.Length}, {z1.Length}, {z2.Length}");
        if (normalize && z0.Length < 2)
            throw new ArgumentException("a normalised slice needs latent dimension >= 2 (a standard deviation of one entry is undefined)");
        _z0 = z0.ToArray();
        _z1 = z1.ToArray();
        _z2 = z2.ToArray();
        foreach (var v in (double[][])[_z0, _z1, _z2])
            foreach (double e in v)
                if (!double.IsFinite(e)) throw new ArgumentException($"slice latent entry {e} is not finite");
        Normalize = normalize;
    }

    /// <summary>
    /// A slice through three latents drawn from N(0, I_d): latent j (0, 1, 2) from stream j of a seed derived from
    /// <paramref name="seed"/>, so the slice is the same on every machine.
    /// </summary>
    public static LatentSlice Random(int dimension, ulong seed, bool normalize = true)
    {
        if (dimension < 1)
            throw new ArgumentOutOfRangeException(nameof(dimension), $"latent dimension {dimension} must be at least 1");
        ulong s = Gaussian.Derive(seed, 0x6C6174656E74UL); // "latent"
        var z = new double[3][];
        for (int j = 0; j < 3; j++)
        {
            z[j] = new double[dimension];
            var rng = SampleRandom.ForStream(s, (ulong)j);
            Gaussian.Fill(ref rng, z[j]);
        }
        return new LatentSlice(z[0], z[1], z[2], normalize);
    }

    /// <summary>
    /// A slice whose three corners generate samples of three different phases, as the paper's slices are chosen through
    /// three pictures of different things, so the square shows (at least) three phases and the boundaries between them.
    /// Candidate latents are drawn from N(0, I_d) one by one (candidate j from stream j of a seed derived from
    /// <paramref name="seed"/>) and each corner takes the first candidate whose phase (of the generator's sample at
    /// the candidate, rescaled as the slice rescales, noise stream 0) no earlier corner has. If fewer distinct phases
    /// turn up within <paramref name="maxCandidates"/> (K &lt; 3, or one phase dominating), the remaining corners take
    /// the earliest unused candidates; <paramref name="distinctPhases"/> says how many corners differ.
    /// </summary>
    public static LatentSlice ThroughDistinctPhases(IGenerator generator, PhaseLabeller phaseOf, ulong seed,
        out int distinctPhases, int maxCandidates = 64, bool normalize = true)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(phaseOf);
        if (maxCandidates < 3) throw new ArgumentOutOfRangeException(nameof(maxCandidates), $"{maxCandidates} candidates: a slice needs 3");
        int d = generator.LatentDimension;
        ulong s = Gaussian.Derive(seed, 0x636F726E6572UL); // "corner"
        var candidates = new List<double[]>();
        var corners = new List<(double[] Z, int Phase)>();
        var output = new double[generator.OutputDimension];
        for (int j = 0; j < maxCandidates && corners.Count < 3; j++)
        {
            var z = new double[d];
            var rng = SampleRandom.ForStream(s, (ulong)j);
            Gaussian.Fill(ref rng, z);
            candidates.Add(z);
            var probe = new LatentSlice(z, z, z, normalize).Latent(0, 0); // the corner as the slice will generate it
            generator.Generate(probe, output, 0);
            int phase = phaseOf(output);
            if (corners.TrueForAll(c => c.Phase != phase)) corners.Add((z, phase));
        }
        distinctPhases = corners.Count;
        foreach (var z in candidates)
            if (corners.Count < 3 && !corners.Exists(c => ReferenceEquals(c.Z, z))) corners.Add((z, -1));
        return new LatentSlice(corners[0].Z, corners[1].Z, corners[2].Z, normalize);
    }

    /// <summary>Writes z(a, b) into <paramref name="z"/> (length <see cref="Dimension"/>).</summary>
    public void Latent(double a, double b, Span<double> z)
    {
        if (z.Length != Dimension)
            throw new ArgumentException($"latent buffer has {z.Length} entries; the slice dimension is {Dimension}");
        for (int i = 0; i < z.Length; i++)
            z[i] = _z0[i] + a * (_z1[i] - _z0[i]) + b * (_z2[i] - _z0[i]);
        if (!Normalize) return;
        double mean = 0;
        foreach (double e in z) mean += e;
        mean /= z.Length;
        double ss = 0;
        foreach (double e in z) ss += (e - mean) * (e - mean);
        double std = Math.Sqrt(ss / (z.Length - 1));
        // Only a degenerate slice (all entries equal) has std 0; leave it as it is rather than divide by zero.
        if (std > 0)
            for (int i = 0; i < z.Length; i++) z[i] /= std;
    }

    /// <summary>z(a, b) as a new array.</summary>
    public double[] Latent(double a, double b)
    {
        var z = new double[Dimension];
        Latent(a, b, z);
        return z;
    }
}

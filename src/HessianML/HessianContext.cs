namespace HessianML;

/// <summary>
/// The entry point, shaped like ML.NET's MLContext: catalogs of data operations, transforms, trainers and model
/// operations, plus the randomness source every seeded component draws from. With a seed, the sequence of
/// <see cref="NextSeed"/> values (hence every split, initialisation and sampling done through this context, in the
/// same order) is reproducible across runs and platforms; without one, it differs from run to run.
/// </summary>
public sealed class HessianContext
{
    private readonly object _gate = new();
    private readonly ulong _base;
    private ulong _counter;

    /// <param name="seed">Seed for every random choice made through this context; null for a time-based one.</param>
    public HessianContext(int? seed = null)
    {
        Seed = seed;
        _base = seed is { } s ? (ulong)(uint)s : (ulong)DateTime.UtcNow.Ticks ^ (ulong)Environment.ProcessId << 32;
        Data = new DataOperationsCatalog(this);
        Transforms = new TransformsCatalog(this);
        Trainers = new TrainersCatalog(this);
        Model = new ModelOperationsCatalog(this);
    }

    /// <summary>The seed given to the constructor (null when none was).</summary>
    public int? Seed { get; }

    /// <summary>Loading, saving, building and splitting data views.</summary>
    public DataOperationsCatalog Data { get; }

    /// <summary>Transform estimators; components add theirs as extension methods.</summary>
    public TransformsCatalog Transforms { get; }

    /// <summary>Trainer estimators; components add theirs as extension methods.</summary>
    public TrainersCatalog Trainers { get; }

    /// <summary>Saving and loading model files.</summary>
    public ModelOperationsCatalog Model { get; }

    /// <summary>
    /// The next per-component seed: SplitMix64 of (context seed, call number), so components created in the same
    /// order get the same seeds, and neighbouring seeds are decorrelated. Thread-safe.
    /// </summary>
    public int NextSeed()
    {
        ulong n;
        lock (_gate) n = _counter++;
        ulong z = _base * 0x9E3779B97F4A7C15UL + (n + 1) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    /// <summary>A <see cref="Random"/> seeded with <see cref="NextSeed"/>.</summary>
    public Random CreateRandom() => new(NextSeed());
}

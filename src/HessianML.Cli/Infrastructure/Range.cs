using HessianML.Compute;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace HessianML.Cli.Infrastructure;

/// <summary>A closed interval given on the command line as `LO:HI` (LO = HI means one point).</summary>
public readonly record struct ParamRange(double Lo, double Hi)
{
    public bool IsPoint => Lo == Hi;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Lo}:{Hi}");

    public static ParamRange Parse(string text, string optionName)
    {
        var parts = text.Split(':');
        if (parts.Length == 1 && TryNumber(parts[0], out double single))
            return new ParamRange(single, single);
        if (parts.Length != 2 || !TryNumber(parts[0], out double lo) || !TryNumber(parts[1], out double hi))
            throw new CliException($"{optionName} '{text}' is not a range LO:HI of two numbers");
        if (lo > hi)
            throw new CliException($"{optionName} '{text}': LO must not exceed HI");
        return new ParamRange(lo, hi);
    }

    private static bool TryNumber(string s, out double value) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
}

/// <summary>Option factories so every command spells the shared options the same way.</summary>
public static class CliOptions
{
    /// <summary>The command as the user typed it (`hessian` and the parsed tokens), for the report page of a run.</summary>
    public static string Typed(ParseResult parse) => Figures.ReportPage.FormatCommandLine(parse.Tokens.Select(t => t.Value));

    public static Option<ParamRange> Range(string name, string description, string defaultValue) => new(name)
    {
        Description = $"{description} (LO:HI, or one value)",
        HelpName = "LO:HI",
        DefaultValueFactory = _ => ParamRange.Parse(defaultValue, name),
        CustomParser = result => ParseToken(result, name),
    };

    public static Option<T> Value<T>(string name, string description, T defaultValue) => new(name)
    {
        Description = description, // the parser appends [default: ...] itself
        DefaultValueFactory = _ => defaultValue,
    };

    public static Option<string> RequiredPath(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "PATH",
        Required = true,
    };

    /// <summary>
    /// <c>--device cpu|cuda[:N]</c>, the one spelling of the device on every command that computes (CPU by default);
    /// a bad value is one parse error naming it.
    /// </summary>
    public static Option<ComputeDevice> Device(string description) => new("--device")
    {
        Description = description,
        HelpName = "cpu|cuda[:N]|ilgpu-cpu",
        DefaultValueFactory = _ => ComputeDevice.Cpu,
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (ComputeDevice.TryParse(text, out var device)) return device;
            result.AddError($"--device '{text}' is not one of {ComputeDevice.Accepted}");
            return default;
        },
    };

    private static ParamRange ParseToken(ArgumentResult result, string name)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        try
        {
            return ParamRange.Parse(text, name);
        }
        catch (CliException ex)
        {
            result.AddError(ex.Message);
            return default;
        }
    }

    /// <summary>Checks an integer option's bounds, naming the option in the error.</summary>
    public static int Within(int value, string name, int min, int max) =>
        value < min || value > max ? throw new CliException($"{name} {value} is out of range [{min}, {max}]") : value;
}

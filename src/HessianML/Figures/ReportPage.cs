using System.Globalization;
using System.Net;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace HessianML.Figures;

/// <summary>A table of the report page: a header row and rows of cells (text, shown as given).</summary>
public sealed record ReportTable(string Caption, IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>
/// <c>report.html</c>: one self-contained page per run folder, readable offline: what ran (command line, versions),
/// the tables, the figures (the folder's PNGs, linked relatively) and every file in the folder with its size. No
/// script, no external style or font, nothing fetched: the page and its folder are the whole record.
/// </summary>
public sealed class ReportPage(string title)
{
    public const string FileName = "report.html";

    /// <summary>The line every run folder's model.zip and metric.csv get in the file list.</summary>
    public const string ModelDescription = "the fitted psi, an ML.NET model zip: t -> psi, dpsi, g, g_eigen",
        MetricFieldDescription = "our metric field at the K x K cell centres (t1,t2,psi,dpsi_dt1,dpsi_dt2,g11,g12,g22)";

    public string Title { get; } = title;

    /// <summary>The command that made the run, as typed; null when the run was made from code.</summary>
    public string? CommandLine { get; init; }

    /// <summary>Lines of plain text under the title (what the run is, what it found).</summary>
    public IReadOnlyList<string> Summary { get; init; } = [];

    public IReadOnlyList<ReportTable> Tables { get; init; } = [];

    /// <summary>Figure files (in the folder) and what each shows, in page order.</summary>
    public IReadOnlyList<(string File, string Caption)> Figures { get; init; } = [];

    /// <summary>What each file holds (name -> one line); a file not named here is listed without a description.</summary>
    public IReadOnlyDictionary<string, string> FileDescriptions { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Writes the page into <paramref name="folder"/>, listing the files that are in it now (so write it last). Every
    /// figure must be one of them: a figure the page would show but the run did not write is a bug, not a broken link.
    /// </summary>
    public string Write(string folder)
    {
        var files = Directory.GetFiles(folder).Select(Path.GetFileName).OfType<string>()
            .Where(f => f != FileName).Order(StringComparer.Ordinal).ToArray();
        foreach (var (file, _) in Figures)
            if (!files.Contains(file))
                throw new InvalidOperationException($"report page: figure {file} is not in {folder}");
        string path = Path.Combine(folder, FileName);
        Png.WriteAtomically(path, Encoding.UTF8.GetBytes(Html(files.Select(f => (f, new FileInfo(Path.Combine(folder, f)).Length)).ToArray())));
        return path;
    }

    /// <summary>The page for a folder holding <paramref name="files"/> (name, bytes).</summary>
    public string Html(IReadOnlyList<(string Name, long Bytes)> files)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        static string Link(string file) => Uri.EscapeDataString(file);
        var sb = new StringBuilder();
        sb.AppendLine("<!DOCTYPE html>");
        sb.AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">");
        sb.AppendLine($"<title>{E(Title)}</title>");
        sb.AppendLine("<style>body{font-family:sans-serif;max-width:1800px;margin:1.5em auto;padding:0 1em;color:#111}" +
                      "table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #bbb;padding:.25em .6em;text-align:right}" +
                      "th:first-child,td:first-child,td.text,th.text{text-align:left}caption{text-align:left;font-weight:bold;padding:.3em 0}" +
                      "figure{margin:1em 0 2em}img{max-width:100%;border:1px solid #ddd}code,pre{background:#f4f4f4;padding:.2em .4em}" +
                      "pre{white-space:pre-wrap}</style>");
        sb.AppendLine("</head><body>");
        sb.AppendLine($"<h1>{E(Title)}</h1>");
        foreach (var line in Summary) sb.AppendLine($"<p>{E(line)}</p>");
        sb.AppendLine("<h2>What ran</h2>");
        sb.AppendLine($"<pre>{E(CommandLine ?? "(made from code, not from the command line)")}</pre>");
        sb.AppendLine("<table><caption>Versions</caption>");
        foreach (var (name, version) in Versions()) sb.AppendLine($"<tr><td>{E(name)}</td><td class=\"text\">{E(version)}</td></tr>");
        sb.AppendLine("</table>");
        if (Tables.Count > 0) sb.AppendLine("<h2>Results</h2>");
        foreach (var t in Tables)
        {
            sb.AppendLine($"<table><caption>{E(t.Caption)}</caption>");
            sb.AppendLine("<tr>" + string.Concat(t.Header.Select(h => $"<th>{E(h)}</th>")) + "</tr>");
            foreach (var row in t.Rows) sb.AppendLine("<tr>" + string.Concat(row.Select(c => $"<td>{E(c)}</td>")) + "</tr>");
            sb.AppendLine("</table>");
        }
        if (Figures.Count > 0) sb.AppendLine("<h2>Figures</h2>");
        foreach (var (file, caption) in Figures)
            sb.AppendLine($"<figure id=\"{E(file)}\"><a href=\"{Link(file)}\"><img src=\"{Link(file)}\" alt=\"{E(caption)}\"></a>" +
                          $"<figcaption><code>{E(file)}</code>: {E(caption)}</figcaption></figure>");
        sb.AppendLine("<h2>Files in this folder</h2>");
        sb.AppendLine("<table><tr><th>file</th><th>bytes</th><th class=\"text\">what</th></tr>");
        foreach (var (name, bytes) in files)
            sb.AppendLine($"<tr><td><a href=\"{Link(name)}\">{E(name)}</a></td><td>{bytes.ToString(CultureInfo.InvariantCulture)}</td>" +
                          $"<td class=\"text\">{E(FileDescriptions.TryGetValue(name, out var d) ? d : "")}</td></tr>");
        sb.AppendLine("</table>");
        sb.AppendLine("</body></html>");
        return sb.ToString();
    }

    /// <summary>HessianML (with its source commit where the build recorded one), Microsoft.ML, ScottPlot, .NET, the OS.</summary>
    public static IReadOnlyList<(string Name, string Version)> Versions()
    {
        static string Of(Assembly a) => a.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                                        ?? a.GetName().Version?.ToString() ?? "unknown";
        return
        [
            ("HessianML", Of(typeof(ReportPage).Assembly)),
            ("Microsoft.ML", Of(typeof(Microsoft.ML.MLContext).Assembly)),
            ("ScottPlot", Of(typeof(ScottPlot.Plot).Assembly)),
            (".NET", RuntimeInformation.FrameworkDescription),
            ("OS", RuntimeInformation.OSDescription),
        ];
    }

    /// <summary>A command as a user would type it: <paramref name="program"/> and its arguments, quoted for a POSIX shell where needed.</summary>
    public static string FormatCommandLine(IEnumerable<string> arguments, string program = "hessian") =>
        string.Join(' ', new[] { program }.Concat(arguments.Select(Quote)));

    private static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_.,:/=+@%".Contains(c)) ? arg : "'" + arg.Replace("'", "'\\''") + "'";
}

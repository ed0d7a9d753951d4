using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using HessianML.Data;

namespace HessianML.Features;

/// <summary>
/// A set of images with their latent coordinates as a data view: <c>image</c> (String, the absolute path) and
/// <c>t</c> (Float32 vector[2]), one row per image, metadata <c>images_source</c> (the CSV or folder read). Two
/// sources:
/// <list type="bullet">
/// <item>a CSV with a header naming the columns <c>file</c>, <c>t1</c> and <c>t2</c> (any order; other columns are
/// ignored; fields may be double-quoted), paths relative to the CSV's folder;</item>
/// <item>a folder whose image files (by extension, <see cref="ImageDecoder.Extensions"/>; not recursive; sorted by
/// name) carry their coordinates in the name as the paper's released code writes them, <c>..._a0.1234_b0.5678_...</c>
/// (t1 = a, t2 = b).</item>
/// </list>
/// Every problem is one <see cref="InvalidDataException"/> (or <see cref="FileNotFoundException"/>) naming the file,
/// and for the CSV the line: a missing image, a bad number, a short row, a name without coordinates.
/// </summary>
public static partial class ImageDataset
{
    public const string ImageColumnName = "image";
    public const string ParameterColumnName = "t";
    public const string SourceKey = "images_source";

    /// <summary>A CSV file or a folder (see the class summary).</summary>
    public static ColumnTable Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) return FromFolder(path);
        if (File.Exists(path)) return FromCsv(path);
        throw new FileNotFoundException($"images '{path}': no such file or folder (give a folder of images or a CSV file,t1,t2)", path);
    }

    /// <summary>Reads a CSV <c>file,t1,t2</c> (paths relative to its folder); every listed image must exist.</summary>
    public static ColumnTable FromCsv(string csvPath)
    {
        if (!File.Exists(csvPath)) throw new FileNotFoundException($"image list '{csvPath}' not found", csvPath);
        string folder = Path.GetDirectoryName(Path.GetFullPath(csvPath))!;
        var images = new List<string>();
        var t = new List<float>();
        using var reader = new StreamReader(csvPath, Encoding.UTF8);
        string? line;
        int lineNo = 0, iFile = -1, i1 = -1, i2 = -1, fields = 0;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Length == 0 && lineNo > 1) continue;
            var f = CsvDataFile.Split(line, csvPath, lineNo);
            if (iFile < 0)
            {
                var names = f.Select(s => s.Trim()).ToList();
                (iFile, i1, i2, fields) = (names.IndexOf("file"), names.IndexOf("t1"), names.IndexOf("t2"), names.Count);
                if (iFile < 0 || i1 < 0 || i2 < 0)
                    throw new InvalidDataException(
                        $"image list '{csvPath}' line 1: the header must name the columns file, t1 and t2; it is '{line}'");
                continue;
            }
            if (f.Count != fields)
                throw new InvalidDataException($"image list '{csvPath}' line {lineNo}: {f.Count} fields, the header has {fields}");
            string file = f[iFile].Trim();
            if (file.Length == 0) throw new InvalidDataException($"image list '{csvPath}' line {lineNo}: empty file name");
            float a = Number(f[i1], "t1", csvPath, lineNo), b = Number(f[i2], "t2", csvPath, lineNo);
            string full = Path.GetFullPath(Path.Combine(folder, file));
            if (!File.Exists(full))
                throw new InvalidDataException($"image list '{csvPath}' line {lineNo}: image '{file}' not found (looked for {full}; paths are relative to the CSV's folder)");
            images.Add(full);
            t.Add(a);
            t.Add(b);
        }
        if (iFile < 0) throw new InvalidDataException($"image list '{csvPath}' is empty (expected a header file,t1,t2 and one row per image)");
        if (images.Count == 0) throw new InvalidDataException($"image list '{csvPath}' has a header but no rows");
        return Build(images, t, Path.GetFullPath(csvPath));
    }

    /// <summary>Lists a folder's images and reads t from each name (<c>_a&lt;t1&gt;_b&lt;t2&gt;</c>); every image must carry them.</summary>
    public static ColumnTable FromFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"image folder '{folder}' not found");
        var files = Directory.EnumerateFiles(folder)
            .Where(p => ImageDecoder.Extensions.Contains(Path.GetExtension(p)))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
            throw new InvalidDataException(
                $"image folder '{folder}' holds no images ({string.Join(", ", ImageDecoder.Extensions.Order(StringComparer.Ordinal))})");
        var images = new List<string>(files.Count);
        var t = new List<float>(2 * files.Count);
        var without = new List<string>();
        foreach (var p in files)
        {
            if (TryParseCoordinates(Path.GetFileName(p), out double a, out double b))
            {
                images.Add(Path.GetFullPath(p));
                t.Add((float)a);
                t.Add((float)b);
            }
            else
            {
                without.Add(Path.GetFileName(p));
            }
        }
        if (without.Count > 0)
            throw new InvalidDataException(
                $"image folder '{folder}': {without.Count} of {files.Count} image names carry no coordinates _a<t1>_b<t2> " +
                $"(e.g. '{string.Join("', '", without.Take(3))}'); name them like img_a0.1234_b0.5678.png or give a CSV file,t1,t2");
        return Build(images, t, Path.GetFullPath(folder));
    }

    // a<number>_b<number> in the name without its extension, delimited by the start or '_' / '-' before, and '_' / '-'
    // or the end after (so "b0.2x" is no number, rather than a "b0" followed by junk).
    private const string NumberPattern = @"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?";

    [GeneratedRegex(@"(?:^|[_\-])a(?<a>" + NumberPattern + @")_b(?<b>" + NumberPattern + @")(?=$|[_\-])", RegexOptions.CultureInvariant)]
    private static partial Regex CoordinatesRegex();

    /// <summary>
    /// Reads (a, b) from a file name like <c>sample_a0.1234_b-0.5678_seed3.png</c>, as the released code names its
    /// images. False when the name carries no such pair, or two different ones.
    /// </summary>
    public static bool TryParseCoordinates(string fileName, out double a, out double b)
    {
        (a, b) = (double.NaN, double.NaN);
        string stem = Path.GetFileNameWithoutExtension(fileName);
        var matches = CoordinatesRegex().Matches(stem);
        if (matches.Count == 0) return false;
        bool first = true;
        foreach (Match m in matches)
        {
            if (!double.TryParse(m.Groups["a"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) || !double.IsFinite(x)
                || !double.TryParse(m.Groups["b"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double y) || !double.IsFinite(y))
                return false;
            if (!first && (x != a || y != b)) return false;
            (a, b, first) = (x, y, false);
        }
        return true;
    }

    private static ColumnTable Build(List<string> images, List<float> t, string source) =>
        new ColumnTable.Builder()
            .AddScalar(ImageColumnName, images.ToArray())
            .AddVector(ParameterColumnName, 2, t.ToArray())
            .AddMetadata(SourceKey, source)
            .Build();

    private static float Number(string field, string column, string path, int line)
    {
        string s = field.Trim();
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new InvalidDataException($"image list '{path}' line {line}: {column} '{s}' is not a finite number");
        return (float)v;
    }
}

/// <summary>Image datasets on <c>mlContext.Data</c>.</summary>
public static class ImageDatasetCatalog
{
    /// <summary>A folder of images named <c>..._a&lt;t1&gt;_b&lt;t2&gt;...</c>, or a CSV <c>file,t1,t2</c>, as columns <c>image</c> and <c>t</c> (<see cref="ImageDataset"/>).</summary>
    public static ColumnTable LoadImageDataset(this Microsoft.ML.DataOperationsCatalog catalog, string folderOrCsv)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return ImageDataset.Load(folderOrCsv);
    }
}

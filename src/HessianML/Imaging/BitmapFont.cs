namespace HessianML.Imaging;

/// <summary>
/// A 5 x 7 pixel font for figure labels. Built in, so titles and colour-bar numbers render identically on every
/// machine, with no font files or font libraries to install.
/// </summary>
internal static class BitmapFont
{
    public const int GlyphWidth = 5, GlyphHeight = 7, Advance = 6;

    // Seven rows per glyph, top to bottom; bit 4 is the leftmost pixel.
    private static readonly Dictionary<char, byte[]> Glyphs = Parse(
        "00E11131519110E;1040C040404040E;20E11010204081F;31F02040201110E;402060A121F0202;51F101E0101110E;" +
        "60608101E11110E;71F010204080808;80E11110E11110E;90E11110F01020C;A0E1111111F1111;B1E11111E11111E;" +
        "C0E11101010110E;D1C12111111121C;E1F10101E10101F;F1F10101E101010;G0E11101711110F;H1111111F111111;" +
        "I0E04040404040E;J0702020202120C;K11121418141211;L1010101010101F;M111B1515111111;N11111915131111;" +
        "O0E11111111110E;P1E11111E101010;Q0E11111115120D;R1E11111E141211;S0F10100E01011E;T1F040404040404;" +
        "U1111111111110E;V11111111110A04;W1111111515150A;X11110A040A1111;Y1111110A040404;Z1F01020408101F;" +
        "a00000E010F110F;b1010161911111E;c00000E1010110E;d01010D1311110F;e00000E111F100E;f0609081C080808;" +
        "g000F11110F010E;h10101619111111;i04000C0404040E;j0200060202120C;k10101214181412;l0C04040404040E;" +
        "m00001A15151111;n00001619111111;o00000E1111110E;p00001E111E1010;q00000D130F0101;r00001619101010;" +
        "s00000E100E011E;t08081C08080906;u0000111111130D;v00001111110A04;w0000111115150A;x0000110A040A11;" +
        "y000011110F010E;z00001F0204081F;.00000000000C0C;,000000000C0408;-0000001F000000;+0004041F040400;" +
        ":000C0C000C0C00;=00001F001F0000;(02040808080402;)08040202020408;/00010204081000;_0000000000001F;" +
        "[0E08080808080E;]0E02020202020E;|04040404040404;%18190204081303;*0004150E150400;<02040810080402;" +
        ">08040201020408;^040A1100000000;?0E110102040004");

    private static Dictionary<char, byte[]> Parse(string table)
    {
        var glyphs = new Dictionary<char, byte[]> { [' '] = new byte[7] };
        foreach (var entry in table.Split(';'))
            glyphs[entry[0]] = Convert.FromHexString(entry.AsSpan(1));
        return glyphs;
    }

    public static int MeasureWidth(string text) => text.Length == 0 ? 0 : text.Length * Advance - 1;

    /// <summary>Draws text with its top-left corner at (x, y), scaled by an integer factor, clipped to the image.</summary>
    public static void Draw(Canvas canvas, string text, int x, int y, (byte R, byte G, byte B) colour, int scale = 1)
    {
        foreach (char ch in text)
        {
            var rows = Glyphs.TryGetValue(ch, out var g) ? g : Glyphs['?'];
            for (int r = 0; r < GlyphHeight; r++)
                for (int c = 0; c < GlyphWidth; c++)
                    if ((rows[r] >> (GlyphWidth - 1 - c) & 1) != 0)
                        canvas.FillRect(x + c * scale, y + r * scale, scale, scale, colour);
            x += Advance * scale;
        }
    }
}

/// A 5×7 bitmap font for printable ASCII (32…126), drawn for this project.
///
/// Each glyph is one hex literal: seven 5-bit rows, top row in the highest bits (bits 34…30),
/// bottom row in bits 4…0, the leftmost column the most significant bit of its row. Bits 35…36
/// hold how many rows the glyph is drawn below the cell top: descenders (g, j, p, q, y, comma,
/// semicolon, underscore) are stored compactly and moved down so they hang below the baseline.
/// A text line is therefore 9 rows tall (7 above the baseline, 2 below), and every character
/// advances 6 columns (5 glyph columns and a 1-column gap).
public enum BitmapFont {
    public static let glyphColumns = 5
    public static let glyphRows = 7
    /// Rows in a line of text at scale 1: 7 above the baseline, 2 for descenders.
    public static let cellRows = 9
    /// Horizontal advance per character at scale 1.
    public static let advance = 6
    public static let firstCode: UInt8 = 32
    public static let lastCode: UInt8 = 126

    public struct Glyph: Equatable, Sendable {
        /// Seven rows, the leftmost column in bit 4.
        public let rows: [UInt8]
        /// Rows the glyph is drawn below the top of the text cell.
        public let shift: Int
    }

    /// The glyph for a printable ASCII code; any other code maps to `?`.
    public static func glyph(_ code: UInt8) -> Glyph {
        let c = (code >= firstCode && code <= lastCode) ? code : UInt8(ascii: "?")
        let packed = table[Int(c - firstCode)]
        let rows = (0..<glyphRows).map { r in UInt8((packed >> UInt64(5 * (glyphRows - 1 - r))) & 0x1F) }
        return Glyph(rows: rows, shift: Int((packed >> 35) & 0x3))
    }

    /// The font codes drawn for `text`: printable ASCII as is, everything else as `?`.
    public static func codes(of text: String) -> [UInt8] {
        text.unicodeScalars.map { s in
            s.value >= UInt32(firstCode) && s.value <= UInt32(lastCode) ? UInt8(s.value) : UInt8(ascii: "?")
        }
    }

    /// Width in pixels of `text` drawn at `scale` (no trailing gap).
    public static func width(of text: String, scale: Int = 1) -> Int {
        width(ofCharacters: codes(of: text).count, scale: scale)
    }

    static func width(ofCharacters count: Int, scale: Int) -> Int {
        count == 0 ? 0 : (count * advance - 1) * max(scale, 1)
    }

    /// Height in pixels of one line of text at `scale`, descenders included.
    public static func lineHeight(scale: Int = 1) -> Int {
        cellRows * max(scale, 1)
    }

    /// (width, height) of the unrotated bounding box of `text`.
    public static func size(of text: String, scale: Int = 1) -> (width: Int, height: Int) {
        (width(of: text, scale: scale), lineHeight(scale: scale))
    }

    /// Longest prefix of `text` that fits in `maxWidth` pixels, ending in "..." when shortened.
    public static func truncate(_ text: String, toWidth maxWidth: Int, scale: Int = 1) -> String {
        if width(of: text, scale: scale) <= maxWidth { return text }
        let perChar = advance * max(scale, 1)
        let keep = maxWidth / perChar - 3
        guard keep > 0 else { return "" }
        return String(text.unicodeScalars.prefix(keep).map(Character.init)) + "..."
    }

    private static let table: [UInt64] = [
        0x0000000000, //  32  
        0x0108421004, //  33 !
        0x0294A00000, //  34 "
        0x0295F57D4A, //  35 #
        0x011F4717C4, //  36 $
        0x0632222263, //  37 %
        0x032544564D, //  38 &
        0x0108800000, //  39 apostrophe
        0x0088842082, //  40 (
        0x0208210888, //  41 )
        0x0009575480, //  42 *
        0x00084F9080, //  43 +
        0x1000063088, //  44 ,
        0x00000F8000, //  45 -
        0x000000018C, //  46 .
        0x0002222200, //  47 /
        0x03A33AE62E, //  48 0
        0x011842108E, //  49 1
        0x03A211111F, //  50 2
        0x07C441062E, //  51 3
        0x008CA97C42, //  52 4
        0x07E1E0862E, //  53 5
        0x01910F462E, //  54 6
        0x07C2222108, //  55 7
        0x03A317462E, //  56 8
        0x03A317844C, //  57 9
        0x0018C03180, //  58 :
        0x1318063088, //  59 ;
        0x0088882082, //  60 <
        0x0001F07C00, //  61 =
        0x0208208888, //  62 >
        0x03A2111004, //  63 ?
        0x03A216D6AE, //  64 @
        0x03A31FC631, //  65 A
        0x07A31F463E, //  66 B
        0x03A308422E, //  67 C
        0x072518C65C, //  68 D
        0x07E10F421F, //  69 E
        0x07E10F4210, //  70 F
        0x03A30BC62F, //  71 G
        0x04631FC631, //  72 H
        0x038842108E, //  73 I
        0x01C4210A4C, //  74 J
        0x04654C5251, //  75 K
        0x042108421F, //  76 L
        0x04775AC631, //  77 M
        0x04639ACE31, //  78 N
        0x03A318C62E, //  79 O
        0x07A31F4210, //  80 P
        0x03A318D64D, //  81 Q
        0x07A31F5251, //  82 R
        0x03E107043E, //  83 S
        0x07C8421084, //  84 T
        0x046318C62E, //  85 U
        0x046318C544, //  86 V
        0x04631AD6AA, //  87 W
        0x0462A22A31, //  88 X
        0x0463151084, //  89 Y
        0x07C222221F, //  90 Z
        0x039084210E, //  91 [
        0x0020820820, //  92 backslash
        0x038421084E, //  93 ]
        0x0115100000, //  94 ^
        0x10000003E0, //  95 _
        0x0208200000, //  96 `
        0x0000E0BE2F, //  97 a
        0x04216CC63E, //  98 b
        0x0000E8422E, //  99 c
        0x0042D9C62F, // 100 d
        0x0000E8FE0E, // 101 e
        0x01928E2108, // 102 f
        0x13E318BC2E, // 103 g
        0x04216CC631, // 104 h
        0x0100C2108E, // 105 i
        0x0880610A4C, // 106 j
        0x04212A6292, // 107 k
        0x030842108E, // 108 l
        0x0001AAD631, // 109 m
        0x00016CC631, // 110 n
        0x0000E8C62E, // 111 o
        0x17A318FA10, // 112 p
        0x13E318BC21, // 113 q
        0x00016CC210, // 114 r
        0x0000F8383E, // 115 s
        0x0211C42126, // 116 t
        0x000118C66D, // 117 u
        0x000118C544, // 118 v
        0x000118D6AA, // 119 w
        0x0001151151, // 120 x
        0x146318BC2E, // 121 y
        0x0001F1111F, // 122 z
        0x00C8441083, // 123 {
        0x0108421084, // 124 |
        0x0608411098, // 125 }
        0x00008A8800, // 126 ~
    ]
}

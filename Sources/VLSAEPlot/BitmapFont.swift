/// A 5×7 bitmap font for printable ASCII (32…126), drawn for this project.
///
/// Each glyph is one hex literal: seven 5-bit rows, top row in the highest bits (bits 34…30),
/// bottom row in bits 4…0, the leftmost column the most significant bit of its row. Bits 35…36
/// hold how many rows the glyph is drawn below the cell top: descenders (g, j, p, q, y, comma,
/// semicolon, underscore) are stored compactly and moved down so they hang below the baseline.
/// A text line is therefore 9 rows tall (7 above the baseline, 2 below), and every character
/// advances 6 columns (5 glyph columns and a 1-column gap).
public enum BitmapFont {
    /// Glyph width in pixels at scale 1.
    public static let glyphColumns = 5
    /// Glyph height in pixels at scale 1, from the top of the cell to the baseline.
    public static let glyphRows = 7
    /// Rows in a line of text at scale 1: 7 above the baseline, 2 for descenders.
    public static let cellRows = 9
    /// Horizontal advance per character at scale 1.
    public static let advance = 6
    /// First code with a glyph: the space.
    public static let firstCode: UInt8 = 32
    /// Last code with a glyph: `~`.
    public static let lastCode: UInt8 = 126

    /// One decoded glyph: its rows of pixels and how far it hangs down.
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
        0x00_0000_0000,  //  32
        0x01_0842_1004,  //  33 !
        0x02_94A0_0000,  //  34 "
        0x02_95F5_7D4A,  //  35 #
        0x01_1F47_17C4,  //  36 $
        0x06_3222_2263,  //  37 %
        0x03_2544_564D,  //  38 &
        0x01_0880_0000,  //  39 apostrophe
        0x00_8884_2082,  //  40 (
        0x02_0821_0888,  //  41 )
        0x00_0957_5480,  //  42 *
        0x00_084F_9080,  //  43 +
        0x10_0006_3088,  //  44 ,
        0x00_000F_8000,  //  45 -
        0x00_0000_018C,  //  46 .
        0x00_0222_2200,  //  47 /
        0x03_A33A_E62E,  //  48 0
        0x01_1842_108E,  //  49 1
        0x03_A211_111F,  //  50 2
        0x07_C441_062E,  //  51 3
        0x00_8CA9_7C42,  //  52 4
        0x07_E1E0_862E,  //  53 5
        0x01_910F_462E,  //  54 6
        0x07_C222_2108,  //  55 7
        0x03_A317_462E,  //  56 8
        0x03_A317_844C,  //  57 9
        0x00_18C0_3180,  //  58 :
        0x13_1806_3088,  //  59 ;
        0x00_8888_2082,  //  60 <
        0x00_01F0_7C00,  //  61 =
        0x02_0820_8888,  //  62 >
        0x03_A211_1004,  //  63 ?
        0x03_A216_D6AE,  //  64 @
        0x03_A31F_C631,  //  65 A
        0x07_A31F_463E,  //  66 B
        0x03_A308_422E,  //  67 C
        0x07_2518_C65C,  //  68 D
        0x07_E10F_421F,  //  69 E
        0x07_E10F_4210,  //  70 F
        0x03_A30B_C62F,  //  71 G
        0x04_631F_C631,  //  72 H
        0x03_8842_108E,  //  73 I
        0x01_C421_0A4C,  //  74 J
        0x04_654C_5251,  //  75 K
        0x04_2108_421F,  //  76 L
        0x04_775A_C631,  //  77 M
        0x04_639A_CE31,  //  78 N
        0x03_A318_C62E,  //  79 O
        0x07_A31F_4210,  //  80 P
        0x03_A318_D64D,  //  81 Q
        0x07_A31F_5251,  //  82 R
        0x03_E107_043E,  //  83 S
        0x07_C842_1084,  //  84 T
        0x04_6318_C62E,  //  85 U
        0x04_6318_C544,  //  86 V
        0x04_631A_D6AA,  //  87 W
        0x04_62A2_2A31,  //  88 X
        0x04_6315_1084,  //  89 Y
        0x07_C222_221F,  //  90 Z
        0x03_9084_210E,  //  91 [
        0x00_2082_0820,  //  92 backslash
        0x03_8421_084E,  //  93 ]
        0x01_1510_0000,  //  94 ^
        0x10_0000_03E0,  //  95 _
        0x02_0820_0000,  //  96 `
        0x00_00E0_BE2F,  //  97 a
        0x04_216C_C63E,  //  98 b
        0x00_00E8_422E,  //  99 c
        0x00_42D9_C62F,  // 100 d
        0x00_00E8_FE0E,  // 101 e
        0x01_928E_2108,  // 102 f
        0x13_E318_BC2E,  // 103 g
        0x04_216C_C631,  // 104 h
        0x01_00C2_108E,  // 105 i
        0x08_8061_0A4C,  // 106 j
        0x04_212A_6292,  // 107 k
        0x03_0842_108E,  // 108 l
        0x00_01AA_D631,  // 109 m
        0x00_016C_C631,  // 110 n
        0x00_00E8_C62E,  // 111 o
        0x17_A318_FA10,  // 112 p
        0x13_E318_BC21,  // 113 q
        0x00_016C_C210,  // 114 r
        0x00_00F8_383E,  // 115 s
        0x02_11C4_2126,  // 116 t
        0x00_0118_C66D,  // 117 u
        0x00_0118_C544,  // 118 v
        0x00_0118_D6AA,  // 119 w
        0x00_0115_1151,  // 120 x
        0x14_6318_BC2E,  // 121 y
        0x00_01F1_111F,  // 122 z
        0x00_C844_1083,  // 123 {
        0x01_0842_1084,  // 124 |
        0x06_0841_1098,  // 125 }
        0x00_008A_8800,  // 126 ~
    ]
}

/// Text bound for a terminal with its control characters made visible: a dataset name, class name
/// or path holding `ESC [ … m` (or any other control sequence) could otherwise recolour, move the
/// cursor, retitle the window or hide the rest of a line. Files are written as they are; only what
/// is printed goes through here.
public enum TerminalText {
    /// `text` with every C0 control character except newline and tab, DEL, and every C1 control
    /// character written as an escape: `\e` for ESC, `\xHH` for the other C0 characters and DEL,
    /// `\u{HH}` for C1 (U+0080–U+009F). A backslash stays a backslash: the result is for reading,
    /// not for parsing back.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            let hex = String(scalar.value, radix: 16, uppercase: false)
            let padded = hex.count < 2 ? "0" + hex : hex
            if scalar.value == 0x1B {
                out += "\\e"
            } else if scalar.value < 0x80 {
                out += "\\x" + padded
            } else {
                out += "\\u{" + padded + "}"
            }
        }
        return out
    }

    private static func needsEscape(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v == 0x0A || v == 0x09 { return false }
        return v < 0x20 || v == 0x7F || (v >= 0x80 && v <= 0x9F)
    }
}

import Foundation
import VLSAECore

/// A list of strings kept as a text file, one entry per line, as CLIP_benchmark's webdataset layout ships
/// `classnames.txt` and `zeroshot_classification_templates.txt`.
public enum TextList {
    /// The largest list file read (a class-name or template list is kilobytes; ImageNet-21k's names are ~1 MB).
    public static let maximumBytes = 16 << 20

    /// The entries of `data`, read as CLIP_benchmark reads them (`builder.py`: `[line.strip() for line in
    /// text.splitlines()]`): lines split at "\n", "\r\n", "\r" or another Unicode line break, each stripped of surrounding white space; a final newline
    /// ends the last entry rather than adding an empty one. Throws `VLSAEError.file` naming `path` for bytes that are
    /// not UTF-8, a file over `maximumBytes`, or an empty entry (CLIP_benchmark would embed an empty class name).
    public static func parse(_ data: Data, path: String) throws -> [String] {
        guard data.count <= maximumBytes else {
            throw VLSAEError.file(path, "is \(data.count) bytes; a list file may hold at most \(maximumBytes)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw VLSAEError.file(path, "is not UTF-8 text")
        }
        // Character.isNewline: "\n", "\r\n", "\r" and the other line breaks Python's splitlines() honours.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        if lines.last?.isEmpty == true { lines.removeLast() }
        var out: [String] = []
        out.reserveCapacity(lines.count)
        for (i, line) in lines.enumerated() {
            let entry = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !entry.isEmpty else { throw VLSAEError.file(path, "line \(i + 1) is empty") }
            out.append(entry)
        }
        return out
    }
}

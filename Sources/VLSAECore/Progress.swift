import Foundation

/// Progress for long work on standard error: a redrawn bar with ETA on a terminal,
/// plain lines (at most one per `lineInterval` seconds, plus the last) otherwise.
public final class Progress {
    private let label: String
    private let total: Int
    private let start = Date()
    private let isTerminal: Bool
    private let enabled: Bool
    private var lastLine = Date.distantPast
    private let lineInterval: TimeInterval

    /// A progress display labelled `label` for `total` units (at least 1); `enabled: false` makes every `update`
    /// silent, and `lineInterval` is the least number of seconds between plain lines when standard error is not a
    /// terminal.
    public init(_ label: String, total: Int, enabled: Bool = true, lineInterval: TimeInterval = 5) {
        self.label = TerminalText.escaped(label)
        self.total = max(total, 1)
        self.enabled = enabled
        self.lineInterval = lineInterval
        self.isTerminal = isatty(STDERR_FILENO) == 1
    }

    /// Reports `done` of `total` units, with an optional status such as the current loss.
    public func update(_ done: Int, status: String = "") {
        guard enabled else { return }
        let elapsed = Date().timeIntervalSince(start)
        let frac = Double(min(done, total)) / Double(total)
        let eta = frac > 0 ? elapsed / frac - elapsed : 0
        let tail =
            "\(done)/\(total) \(Progress.clock(elapsed)) elapsed, ETA \(Progress.clock(eta))\(status.isEmpty ? "" : "  " + status)"
        if isTerminal {
            let width = 24
            let filled = Int(frac * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(label) [\(bar)] \(tail)".utf8))
            if done >= total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else if done >= total || Date().timeIntervalSince(lastLine) >= lineInterval {
            lastLine = Date()
            FileHandle.standardError.write(Data("\(label): \(tail)\n".utf8))
        }
    }

    /// A plain message line that does not collide with the bar (control characters escaped:
    /// messages carry paths and dataset names, `TerminalText`).
    public static func note(_ message: String) {
        FileHandle.standardError.write(Data((TerminalText.escaped(message) + "\n").utf8))
    }

    /// `mm:ss`, or `h:mm:ss` from an hour on; `--:--` for a negative or non-finite number of seconds.
    public static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
            : String(format: "%02d:%02d", s / 60, s % 60)
    }
}

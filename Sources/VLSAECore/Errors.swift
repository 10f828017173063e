/// The one error type users see: it names the file (when there is one) and the problem.
public enum VLSAEError: Error, CustomStringConvertible, Equatable {
    /// A problem with a specific input or output file.
    case file(String, String)
    /// A problem with the user's request (flags, specs, configs).
    case usage(String)
    /// Inputs that cannot be combined (shape or dimension mismatches across files).
    case mismatch(String)

    public var description: String {
        switch self {
        case let .file(path, message): return "\(path): \(message)"
        case let .usage(message): return message
        case let .mismatch(message): return message
        }
    }
}

/// The one error type users see: it names the file (when there is one) and the problem.
public enum VLSAEError: Error, CustomStringConvertible, Equatable {
    /// A problem with a specific input or output file.
    case file(String, String)
    /// A problem with the user's request (flags, specs, configs).
    case usage(String)
    /// Inputs that cannot be combined (shape or dimension mismatches across files).
    case mismatch(String)
    /// A limit of the machine or the process was reached (threads that cannot be created, a
    /// request larger than a documented maximum); the message names the limit.
    case resource(String)

    /// The message users see: `path: message` for `.file`, the message alone otherwise.
    public var description: String {
        switch self {
        case .file(let path, let message): return "\(path): \(message)"
        case .usage(let message): return message
        case .mismatch(let message): return message
        case .resource(let message): return message
        }
    }
}

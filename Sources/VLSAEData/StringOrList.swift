/// A manifest value written as a JSON string or an array of strings: the shared shape of `StringListSource` and
/// `TensorSource`, which give each form its meaning.
enum StringOrList: Codable, Equatable {
    /// A JSON string.
    case string(String)
    /// A JSON array of strings.
    case list([String])

    /// Decodes either form; anything else is a decoding error saying what was expected.
    init(from decoder: Decoder, expected: String) throws {
        let c = try decoder.singleValueContainer()
        if let text = try? c.decode(String.self) {
            self = .string(text)
        } else if let list = try? c.decode([String].self) {
            self = .list(list)
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected \(expected)")
        }
    }

    init(from decoder: Decoder) throws {
        try self.init(from: decoder, expected: "a string or an array of strings")
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let text): try c.encode(text)
        case .list(let list): try c.encode(list)
        }
    }
}

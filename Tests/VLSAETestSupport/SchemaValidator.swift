import Foundation

/// A strict JSON value, parsed by the small parser below (no NaN/Infinity, no trailing commas),
/// so that schema checks do not depend on how Foundation bridges numbers and booleans.
public indirect enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double, isInteger: Bool)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    /// Structural equality: numbers by value, object members regardless of their order.
    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x, _), .number(let y, _)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count
                && zip(x.sorted { $0.0 < $1.0 }, y.sorted { $0.0 < $1.0 })
                    .allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The member `key` of an object (the first, if repeated); nil for other values or a missing key.
    public subscript(key: String) -> JSON? {
        if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
        return nil
    }

    struct ParseError: Error, CustomStringConvertible { let description: String }

    /// Parses strict JSON (RFC 8259); object members keep their order and repeats.
    public static func parse(_ data: Data) throws -> JSON {
        var p = Parser(bytes: Array(data))
        p.skipSpace()
        let v = try p.value()
        p.skipSpace()
        guard p.i == p.bytes.count else { throw ParseError(description: "trailing bytes at \(p.i)") }
        return v
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[i]) { i += 1 }
        }

        func fail(_ m: String) -> ParseError { ParseError(description: "\(m) at byte \(i)") }

        /// Consumes `c` when it is the next byte; says whether it was.
        mutating func consume(_ c: Unicode.Scalar) -> Bool {
            guard i < bytes.count, bytes[i] == UInt8(ascii: c) else { return false }
            i += 1
            return true
        }

        /// After an array item or object member: consumes "," (false: another follows) or `close`
        /// (true: the container ends); the end of input or any other byte throws.
        mutating func endsContainer(_ close: Unicode.Scalar, _ what: String) throws -> Bool {
            skipSpace()
            guard i < bytes.count else { throw fail("unterminated \(what)") }
            if consume(",") { return false }
            if consume(close) { return true }
            throw fail("expected , or \(close)")
        }

        mutating func literal(_ s: String, _ v: JSON) throws -> JSON {
            let u = Array(s.utf8)
            guard i + u.count <= bytes.count, Array(bytes[i..<(i + u.count)]) == u else { throw fail("bad literal") }
            i += u.count
            return v
        }

        mutating func value() throws -> JSON {
            guard i < bytes.count else { throw fail("unexpected end") }
            switch bytes[i] {
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "["):
                i += 1
                skipSpace()
                var items: [JSON] = []
                if consume("]") { return .array(items) }
                repeat {
                    skipSpace()
                    items.append(try value())
                } while try !endsContainer("]", "array")
                return .array(items)
            case UInt8(ascii: "{"):
                i += 1
                skipSpace()
                var members: [(String, JSON)] = []
                if consume("}") { return .object(members) }
                repeat {
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected key") }
                    let k = try string()
                    skipSpace()
                    guard consume(":") else { throw fail("expected :") }
                    skipSpace()
                    if members.contains(where: { $0.0 == k }) { throw fail("duplicate key \(k)") }
                    members.append((k, try value()))
                } while try !endsContainer("}", "object")
                return .object(members)
            default: return try number()
            }
        }

        mutating func string() throws -> String {
            i += 1
            var out: [UInt8] = []
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    i += 1
                    return String(decoding: out, as: UTF8.self)
                }
                if b < 0x20 { throw fail("control character in string") }
                if b == UInt8(ascii: "\\") {
                    i += 1
                    guard i < bytes.count else { break }
                    switch bytes[i] {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"):
                        guard i + 4 < bytes.count,
                            let code = UInt32(String(decoding: bytes[(i + 1)...(i + 4)], as: UTF8.self), radix: 16)
                        else { throw fail("bad \\u escape") }
                        // Surrogate pairs do not occur in our documents; map lone surrogates to U+FFFD.
                        out.append(
                            contentsOf: Array(String(Unicode.Scalar(code).map(Character.init) ?? "\u{FFFD}").utf8))
                        i += 4
                    default: out.append(bytes[i])
                    }
                    i += 1
                    continue
                }
                out.append(b)
                i += 1
            }
            throw fail("unterminated string")
        }

        mutating func number() throws -> JSON {
            let start = i
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
            var integer = true
            while i < bytes.count {
                let b = bytes[i]
                if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) {
                    i += 1
                } else if [
                    UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"),
                ].contains(b) {
                    integer = false
                    i += 1
                } else {
                    break
                }
            }
            let text = String(decoding: bytes[start..<i], as: UTF8.self)
            guard !text.isEmpty, text != "-", let v = Double(text), v.isFinite else {
                throw fail("bad number '\(text)'")
            }
            return .number(v, isInteger: integer || v == v.rounded())
        }
    }
}

/// Validates JSON against the subset of JSON Schema 2020-12 that result.schema.json uses:
/// type (a name or an array of names, "null" included), required, properties,
/// additionalProperties (false or a schema), items, enum, const, minimum, maximum, minItems,
/// minLength, pattern, if/then/else, and $ref to "#/$defs/...". Any other keyword is reported as unsupported,
/// so the schema cannot silently use something this validator ignores.
public struct SchemaValidator: Sendable {
    /// The schema document; `$ref`s resolve against it.
    public let root: JSON
    /// The schema keywords this validator implements; any other is reported as unsupported.
    public static let supported: Set<String> = [
        "$schema", "$id", "$defs", "$ref", "title", "description", "type", "required", "properties",
        "additionalProperties", "items", "enum", "const", "minimum", "maximum", "minItems", "minLength", "pattern",
        "if", "then", "else",
    ]

    /// A validator for the schema `root`.
    public init(root: JSON) { self.root = root }

    /// Every violation of the schema by `value`, each as "<JSON path>: <problem>"; empty when it conforms.
    public func validate(_ value: JSON) -> [String] {
        var errors: [String] = []
        check(value, against: root, at: "$", errors: &errors)
        return errors
    }

    private func resolve(_ ref: String) -> JSON? {
        guard ref.hasPrefix("#/") else { return nil }
        var node: JSON? = root
        for part in ref.dropFirst(2).split(separator: "/") { node = node?[String(part)] }
        return node
    }

    private func typeMatches(_ v: JSON, _ name: String) -> Bool {
        switch (name, v) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object),
            ("number", .number):
            return true
        case ("integer", .number(_, let isInt)): return isInt
        default: return false
        }
    }

    private func check(_ v: JSON, against schema: JSON, at path: String, errors: inout [String]) {
        if case .bool(let b) = schema {
            if !b { errors.append("\(path): not allowed") }
            return
        }
        guard case .object(let keywords) = schema else {
            errors.append("\(path): schema is not an object")
            return
        }
        for (k, _) in keywords where !SchemaValidator.supported.contains(k) {
            errors.append("\(path): unsupported schema keyword \(k)")
        }
        if case .string(let ref)? = schema["$ref"] {
            guard let target = resolve(ref) else {
                errors.append("\(path): unresolvable $ref \(ref)")
                return
            }
            check(v, against: target, at: path, errors: &errors)
        }
        if let condition = schema["if"] {
            // `if` only selects a branch: its own violations are not errors.
            var scratch: [String] = []
            check(v, against: condition, at: path, errors: &scratch)
            if let branch = scratch.isEmpty ? schema["then"] : schema["else"] {
                check(v, against: branch, at: path, errors: &errors)
            }
        }
        if let t = schema["type"] {
            var names: [String] = []
            if case .string(let s) = t { names = [s] }
            if case .array(let a) = t {
                names = a.compactMap {
                    if case .string(let s) = $0 { return s }
                    return nil
                }
            }
            if !names.contains(where: { typeMatches(v, $0) }) {
                errors.append("\(path): expected type \(names.joined(separator: "|")), found \(describe(v))")
                return
            }
        }
        if let c = schema["const"], c != v { errors.append("\(path): expected constant \(c)") }
        if case .array(let options)? = schema["enum"], !options.contains(v) {
            errors.append("\(path): \(describe(v)) is not one of the allowed values")
        }
        if case .number(let x, _) = v {
            if case .number(let lo, _)? = schema["minimum"], x < lo { errors.append("\(path): \(x) < minimum \(lo)") }
            if case .number(let hi, _)? = schema["maximum"], x > hi { errors.append("\(path): \(x) > maximum \(hi)") }
        }
        if case .string(let s) = v {
            if case .number(let n, _)? = schema["minLength"], Double(s.count) < n {
                errors.append("\(path): shorter than \(Int(n))")
            }
            if case .string(let pattern)? = schema["pattern"] {
                let re = try? NSRegularExpression(pattern: pattern)
                let range = NSRange(s.startIndex..., in: s)
                if re == nil {
                    errors.append("\(path): bad pattern \(pattern)")
                } else if re!.firstMatch(in: s, range: range) == nil {
                    errors.append("\(path): \"\(s)\" does not match \(pattern)")
                }
            }
        }
        if case .array(let items) = v {
            if case .number(let n, _)? = schema["minItems"], Double(items.count) < n {
                errors.append("\(path): \(items.count) items, fewer than \(Int(n))")
            }
            if let itemSchema = schema["items"] {
                for (i, item) in items.enumerated() {
                    check(item, against: itemSchema, at: "\(path)[\(i)]", errors: &errors)
                }
            }
        }
        if case .object(let members) = v {
            if case .array(let req)? = schema["required"] {
                for case .string(let k) in req where !members.contains(where: { $0.0 == k }) {
                    errors.append("\(path): missing required key \(k)")
                }
            }
            let props = schema["properties"]
            for (k, mv) in members {
                if let ps = props?[k] {
                    check(mv, against: ps, at: "\(path).\(k)", errors: &errors)
                } else if let extra = schema["additionalProperties"] {
                    if case .bool(false) = extra {
                        errors.append("\(path): unexpected key \(k)")
                    } else {
                        check(mv, against: extra, at: "\(path).\(k)", errors: &errors)
                    }
                }
            }
        }
    }

    private func describe(_ v: JSON) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return "boolean \(b)"
        case .number(let x, _): return "number \(x)"
        case .string(let s): return "string \"\(s)\""
        case .array: return "array"
        case .object: return "object"
        }
    }
}

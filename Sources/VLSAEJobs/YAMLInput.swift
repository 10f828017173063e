import CYaml
import Foundation
import VLSAECore

/// A check of YAML text before Yams builds it into values, run on the event stream of libyaml (the
/// parser Yams wraps; `yaml.h`), which reads nesting with heap stacks rather than recursion. Yams
/// composes and constructs recursively and expands every alias into a copy, so without this a 10 KB
/// config nested 5,000 deep overflows the stack and a few hundred bytes of aliases to aliases
/// ("billion laughs") expand to gigabytes. Refused: nesting deeper than `maxDepth`, more than
/// `maxAliases` aliases, a document that expands to more than `maxNodes` nodes once every alias is
/// replaced by what it names, a mapping that names a key twice (Yams keeps one silently), and a
/// mapping key that is a sequence or a mapping (Yams 5 force-unwraps every key as a string and
/// crashes), and a YAML 1.1 base-60 integer (`1:30:00`) too large for 64 bits (Yams's conversion
/// traps on the overflow); both found by `FuzzSweepConfig`.
enum YAMLInput {
    /// The deepest nesting of sequences and mappings accepted; a sweep config needs 3.
    static let maxDepth = 64
    /// The most aliases (`*name`) in a file.
    static let maxAliases = 1000
    /// The most nodes (scalars, sequences, mappings) once aliases are expanded.
    static let maxNodes = 100_000

    private struct Frame {
        let anchor: String?
        let isMapping: Bool
        var size = 1
        var atKey = true
        var keys = Set<String>()
    }

    /// False when `text` reads as a YAML 1.1 base-60 integer (digits separated by `:`, as Yams's resolver and its
    /// `!!int` constructor take it) whose value or place value overflows 64 bits, computed the way Yams computes it
    /// (Constructor.swift, `String.sexagesimal()`: every `:`-separated part that parses as an integer, last first,
    /// times 60 to its place, the place value itself computed past the first part).
    static func sexagesimalFits(_ text: String) -> Bool {
        var body = Substring(text)
        if body.first == "-" || body.first == "+" { body = body.dropFirst() }
        // Yams reads 0x…, 0b…, 0o… and 0… in their radix first, which cannot trap.
        guard body.contains(":"), !body.hasPrefix("0"),
            body.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ":" || $0 == "_") })
        else { return true }
        var place = 1
        var value = 0
        for part in body.split(separator: ":", omittingEmptySubsequences: false).reversed() {
            guard let digit = Int(part, radix: 10) else { continue }
            let (term, o1) = digit.multipliedReportingOverflow(by: place)
            let (sum, o2) = value.addingReportingOverflow(term)
            let (next, o3) = place.multipliedReportingOverflow(by: 60)
            if o1 || o2 || o3 { return false }
            (value, place) = (sum, next)
        }
        return true
    }

    /// Throws `VLSAEError.file(path, …)` naming the problem and its line when `text` breaks a limit above or repeats
    /// a mapping key. Syntax errors are left to Yams, which reports them with context.
    static func check(_ text: String, path: String) throws {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw VLSAEError.file(path, "cannot start the YAML parser (out of memory)")
        }
        defer { yaml_parser_delete(&parser) }
        var utf8 = Array(text.utf8)
        try utf8.withUnsafeMutableBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var frames: [Frame] = []
            // Each anchor's expanded size, and whether it names a scalar.
            var anchors: [String: (size: Int, scalar: Bool)] = [:]
            var nodes = 0
            var aliases = 0
            func string(_ p: UnsafeMutablePointer<yaml_char_t>?, _ n: Int? = nil) -> String? {
                guard let p else { return nil }
                let count = n ?? strlen(UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self))
                return String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self)
            }
            func fail(_ message: String, _ event: yaml_event_t) -> VLSAEError {
                VLSAEError.file(path, "\(message) (line \(event.start_mark.line + 1))")
            }
            /// A node starts (or, for a scalar or alias, is) under the innermost open collection.
            func enter(size: Int, scalar: Bool, key: String?, _ event: yaml_event_t) throws {
                let (total, overflow) = nodes.addingReportingOverflow(size)
                guard !overflow, total <= maxNodes else {
                    throw fail(
                        "YAML expands to more than \(maxNodes) nodes once its aliases are replaced (an alias bomb?)",
                        event)
                }
                nodes = total
                guard !frames.isEmpty else { return }
                let top = frames.count - 1
                if frames[top].isMapping {
                    if frames[top].atKey, !scalar {
                        throw fail("a YAML mapping key must be a plain value, not a sequence or a mapping", event)
                    }
                    if frames[top].atKey, let key {
                        guard frames[top].keys.insert(key).inserted else {
                            let shown = key.count > 60 ? String(key.prefix(60)) + "…" : key
                            throw fail("duplicate key \"\(shown)\": a YAML mapping must name each key once", event)
                        }
                    }
                    frames[top].atKey.toggle()
                }
            }
            var event = yaml_event_t()
            while true {
                // A syntax error: Yams parses the same text and reports it with context.
                guard yaml_parser_parse(&parser, &event) == 1 else { return }
                defer { yaml_event_delete(&event) }
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return
                case YAML_SCALAR_EVENT:
                    let s = event.data.scalar
                    if let text = string(s.value, s.length), !sexagesimalFits(text) {
                        throw fail("the base-60 number \"\(text.prefix(40))\" does not fit in 64 bits", event)
                    }
                    try enter(size: 1, scalar: true, key: string(s.value, s.length), event)
                    if let anchor = string(s.anchor) { anchors[anchor] = (1, true) }
                    if !frames.isEmpty { frames[frames.count - 1].size += 1 }
                case YAML_ALIAS_EVENT:
                    aliases += 1
                    guard aliases <= maxAliases else { throw fail("more than \(maxAliases) YAML aliases", event) }
                    // An undefined alias is Yams's error to report; it expands to nothing here.
                    let target = string(event.data.alias.anchor).flatMap { anchors[$0] } ?? (1, true)
                    try enter(size: target.size, scalar: target.scalar, key: nil, event)
                    if !frames.isEmpty { frames[frames.count - 1].size += target.size }
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    guard frames.count < maxDepth else {
                        throw fail("YAML nested deeper than \(maxDepth) levels", event)
                    }
                    try enter(size: 1, scalar: false, key: nil, event)
                    let isMapping = event.type == YAML_MAPPING_START_EVENT
                    let anchor = string(isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor)
                    frames.append(Frame(anchor: anchor, isMapping: isMapping))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    guard let done = frames.popLast() else { return }
                    if let anchor = done.anchor { anchors[anchor] = (done.size, false) }
                    if !frames.isEmpty { frames[frames.count - 1].size += done.size }
                default:
                    break
                }
            }
        }
    }
}

import Foundation
import VLSAECore

// A restricted pickle reader for the object trees `torch.save` writes. Python's pickle runs arbitrary
// callables named by GLOBAL (`os.system`, ...); this reader never calls anything. A handful of torch and
// collections names are interpreted as data (tensor rebuilds, OrderedDict); every other class or function
// becomes an opaque `object` whose constructor arguments and state are kept so that tensors nested inside
// (a pickled nn.Module's `_parameters`) can still be found.

/// A value decoded from a pickle.
public enum PickleValue {
    case none
    case bool(Bool)
    case int(Int64)
    /// An integer wider than 64 bits: its little-endian two's-complement bytes.
    case largeInt(Data)
    case float(Double)
    case string(String)
    /// BINBYTES and the Python-2 byte strings (BINSTRING).
    case bytes(Data)
    case list(PickleList)
    case tuple(PickleTuple)
    /// dict and collections.OrderedDict, in insertion order.
    case dict(PickleDict)
    /// A class or function named by GLOBAL/STACK_GLOBAL, as "module.name"; never resolved.
    case global(String)
    /// An instance of a class (or result of a function) that this reader does not interpret.
    case object(PickleObject)
    /// A torch storage named by a persistent id.
    case storage(TorchStorageRef)
    case tensor(Tensor)

    /// The string if this is a `.string`.
    public var string: String? { if case .string(let s) = self { return s } else { return nil } }

    /// Looks a string key up in a dict (or in an opaque object's state dict).
    public subscript(key: String) -> PickleValue? {
        switch self {
        case .dict(let d): return d.value(forKey: key)
        case .object(let o): return o.state?[key]
        default: return nil
        }
    }

    var typeDescription: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .largeInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .global(let name): return "reference to \(name)"
        case .object(let o): return "\(o.className) object"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

/// Containers are reference types because pickle fills them after memoizing them: a later BINGET must see
/// the items that APPENDS/SETITEMS added.
protocol PickleContainer: AnyObject {
    var children: [PickleValue] { get }
    func dropChildren()
}

/// A pickled Python list; filled by APPEND(S) after it is memoised.
public final class PickleList: PickleContainer {
    /// The elements, in order.
    public internal(set) var items: [PickleValue]
    init(_ items: [PickleValue] = []) { self.items = items }
    var children: [PickleValue] { items }
    func dropChildren() { items = [] }
}

/// A pickled Python tuple.
public final class PickleTuple: PickleContainer {
    /// The elements, in order.
    public internal(set) var items: [PickleValue]
    init(_ items: [PickleValue]) { self.items = items }
    var children: [PickleValue] { items }
    func dropChildren() { items = [] }
}

/// A pickled dict or `collections.OrderedDict`, keeping insertion order; a repeated str, int or bool key replaces the
/// earlier value in place, as Python does.
public final class PickleDict: PickleContainer {
    /// Whether it was a collections.OrderedDict.
    public let ordered: Bool
    /// The key/value pairs in insertion order.
    public private(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    private var index: [Key: Int] = [:]

    /// Python replaces the value of an existing key; only str/int/bool keys are compared here.
    private enum Key: Hashable {
        case string(String)
        case int(Int64)
    }

    init(ordered: Bool) { self.ordered = ordered }

    private static func key(_ v: PickleValue) -> Key? {
        switch v {
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .bool(let b): return .int(b ? 1 : 0)
        default: return nil
        }
    }

    func set(_ key: PickleValue, _ value: PickleValue) {
        if let k = PickleDict.key(key) {
            if let at = index[k] {
                entries[at].value = value
                return
            }
            index[k] = entries.count
        }
        entries.append((key, value))
    }

    /// The value under string key `key`, nil when absent.
    public func value(forKey key: String) -> PickleValue? {
        index[.string(key)].map { entries[$0].value }
    }

    var children: [PickleValue] { entries.flatMap { [$0.key, $0.value] } }
    func dropChildren() {
        entries = []
        index = [:]
    }
}

/// An instance of a class (or the result of a function) this reader does not interpret: what the pickle named and every
/// argument it passed, kept as data.
public final class PickleObject: PickleContainer {
    /// "module.Name" of the class or function that would have been called.
    public let className: String
    /// The arguments of REDUCE/NEWOBJ.
    public internal(set) var args: [PickleValue]
    /// The argument of BUILD (usually the instance `__dict__`).
    public internal(set) var state: PickleValue?
    /// Items added by APPEND(S) and SETITEM(S) (list and dict subclasses).
    public internal(set) var listItems: [PickleValue] = []
    /// Key/value pairs added by SETITEM(S) (dict subclasses), in order.
    public internal(set) var dictItems: [(key: PickleValue, value: PickleValue)] = []

    init(className: String, args: [PickleValue]) {
        self.className = className
        self.args = args
    }

    var children: [PickleValue] {
        args + (state.map { [$0] } ?? []) + listItems + dictItems.flatMap { [$0.key, $0.value] }
    }
    func dropChildren() {
        args = []
        state = nil
        listItems = []
        dictItems = []
    }
}

/// A storage referenced by a persistent id ('storage', torch.<Type>Storage, key, location, numel).
public struct TorchStorageRef {
    /// The element type, from the storage class name (e.g. `torch.HalfStorage` → float16).
    public let dtype: DType
    /// The storage's name: its bytes are the archive member `<prefix>/data/<key>`.
    public let key: String
    /// The device the storage was saved from, e.g. "cpu" or "cuda:0" (recorded, not used).
    public let location: String
    /// Number of elements.
    public let count: Int
}

/// What a malformed pickle reports; TorchFormat turns it into VLSAEError.file.
struct PickleError: Error {
    let message: String
}

/// Where the unpickler gets storages and how it turns a rebuild call into a tensor. Kept out of the VM so
/// that the VM stays about pickle and the torch rules live in Torch.swift.
protocol TorchPickleHost: AnyObject {
    func storage(persistentID: PickleValue) throws -> PickleValue
    func rebuildTensor(args: [PickleValue]) throws -> Tensor
}

/// Names of callables the reader interprets as data. Anything else stays opaque.
enum TorchGlobals {
    static let orderedDict: Set<String> = ["collections.OrderedDict"]
    static let rebuildTensor: Set<String> = ["torch._utils._rebuild_tensor_v2"]
    static let rebuildTensorLegacy: Set<String> = ["torch._utils._rebuild_tensor"]
    static let rebuildParameter: Set<String> = [
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
    ]
    static let rebuildFromType: Set<String> = ["torch._tensor._rebuild_from_type_v2"]
    static let storageTypes: [String: DType] = [
        "torch.FloatStorage": .float32, "torch.HalfStorage": .float16, "torch.BFloat16Storage": .bfloat16,
        "torch.DoubleStorage": .float64, "torch.LongStorage": .int64, "torch.IntStorage": .int32,
        "torch.ByteStorage": .uint8, "torch.BoolStorage": .bool,
    ]
    /// Harmless names that carry no code worth warning about (torch.Size is a tuple, set a container).
    static let harmless: Set<String> = [
        "torch.Size", "torch.device", "builtins.set", "__builtin__.set", "builtins.frozenset",
        "__builtin__.frozenset", "torch.float32", "torch.float16", "torch.bfloat16", "torch.float64",
        "torch.int64", "torch.int32", "torch.uint8", "torch.bool", "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state", "torch._tensor._rebuild_from_type_v2",
        "collections.OrderedDict", "torch.Tensor", "torch.nn.parameter.Parameter",
    ]

    static func isKnown(_ name: String) -> Bool { harmless.contains(name) || storageTypes[name] != nil }
}

/// The pickle virtual machine. Iterative (no recursion on input), bounds-checked, and it never calls code.
final class Unpickler {
    /// Deepest container nesting accepted in the result.
    static let maxDepth = 1000

    private let bytes: [UInt8]
    private var pos = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [UInt64: PickleValue] = [:]
    /// Every container made, so that an error (or unreachable garbage) can be dismantled without deep
    /// recursive deinit chains, and cycles do not leak.
    private var arena: [PickleContainer] = []
    // Strong: callers pass a fresh host and may drop their own reference right after.
    private let host: TorchPickleHost?
    /// Classes/functions referenced that the reader does not interpret, in first-seen order.
    private(set) var unknownGlobals: [String] = []
    /// `unknownGlobals` as a set: a pickle may name hundreds of thousands of globals, and a linear search per
    /// GLOBAL opcode would be quadratic.
    private var unknownGlobalSet = Set<String>()

    init(_ data: Data, host: TorchPickleHost?) {
        self.bytes = [UInt8](data)
        self.host = host
    }

    func load() throws -> PickleValue {
        do {
            let root = try run()
            let reachable = try checkShape(root)
            for c in arena where !reachable.contains(ObjectIdentifier(c)) { c.dropChildren() }
            arena = []
            return root
        } catch {
            for c in arena { c.dropChildren() }
            arena = []
            stack = []
            memo = [:]
            throw error
        }
    }

    // MARK: reading the byte stream

    private func fail(_ message: String, at offset: Int? = nil) -> PickleError {
        PickleError(message: "pickle offset \(offset ?? pos): \(message)")
    }

    private func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - pos else {
            throw fail("truncated: needs \(n) more bytes, \(bytes.count - pos) left")
        }
        defer { pos += n }
        return bytes[pos..<(pos + n)]
    }

    private func u8() throws -> UInt8 { try take(1).first! }

    private func uintLE(_ n: Int) throws -> UInt64 {
        var v: UInt64 = 0
        for (i, b) in try take(n).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }

    private func length(_ n: Int) throws -> Int {
        let v = try uintLE(n)
        guard v <= UInt64(bytes.count - pos) else {
            throw fail("truncated: a \(v)-byte item but only \(bytes.count - pos) bytes left")
        }
        return Int(v)
    }

    private func line() throws -> String {
        guard let nl = bytes[pos...].firstIndex(of: 0x0A) else { throw fail("truncated: unterminated GLOBAL line") }
        let text = String(decoding: bytes[pos..<nl], as: UTF8.self)
        pos = nl + 1
        return text
    }

    private func utf8(_ n: Int) throws -> String {
        let start = pos
        let slice = try take(n)
        guard let s = String(bytes: slice, encoding: .utf8) else { throw fail("invalid UTF-8 in a string", at: start) }
        return s
    }

    // MARK: stack

    private func pop() throws -> PickleValue {
        guard let top = stack.popLast() else { throw fail("stack underflow") }
        if let m = marks.last, stack.count < m { throw fail("stack underflow past a MARK") }
        return top
    }

    private func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw fail("no MARK on the stack") }
        guard m <= stack.count else { throw fail("stack underflow past a MARK") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    private func topIndex() throws -> Int {
        guard stack.count > (marks.last ?? 0) else { throw fail("stack underflow") }
        return stack.count - 1
    }

    private func make<C: PickleContainer>(_ c: C) -> C {
        arena.append(c)
        return c
    }
    private func tuple(_ items: [PickleValue]) -> PickleValue { .tuple(make(PickleTuple(items))) }

    private func noteGlobal(_ name: String) {
        if !TorchGlobals.isKnown(name), unknownGlobalSet.insert(name).inserted { unknownGlobals.append(name) }
    }

    // MARK: the machine

    private func run() throws -> PickleValue {
        while true {
            let opAt = pos
            let op = try u8()
            switch op {
            case 0x80:  // PROTO
                let p = try u8()
                guard (2...5).contains(p) else {
                    throw fail("unsupported pickle protocol \(p) (expected 2 to 5)", at: opAt)
                }
            case 0x95:  // FRAME: a buffering hint only
                _ = try length(8)
            case 0x2E:  // STOP
                guard let result = stack.popLast() else { throw fail("STOP with an empty stack", at: opAt) }
                return result
            case 0x28: marks.append(stack.count)  // MARK
            case 0x30: _ = try pop()  // POP
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x32: stack.append(stack[try topIndex()])  // DUP
            case 0x4E: stack.append(.none)
            case 0x88: stack.append(.bool(true))
            case 0x89: stack.append(.bool(false))
            case 0x4A: stack.append(.int(Int64(Int32(truncatingIfNeeded: try uintLE(4)))))  // BININT
            case 0x4B: stack.append(.int(Int64(try u8())))  // BININT1
            case 0x4D: stack.append(.int(Int64(try uintLE(2))))  // BININT2
            case 0x8A: stack.append(try long(Int(try u8())))  // LONG1
            case 0x8B:  // LONG4
                let n = try uintLE(4)
                guard n < 1 << 31 else { throw fail("negative LONG4 length", at: opAt) }
                stack.append(try long(Int(n)))
            case 0x47:  // BINFLOAT, big-endian
                var v: UInt64 = 0
                for b in try take(8) { v = v << 8 | UInt64(b) }
                stack.append(.float(Double(bitPattern: v)))
            case 0x58: stack.append(.string(try utf8(try length(4))))  // BINUNICODE
            case 0x8C: stack.append(.string(try utf8(try length(1))))  // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(try utf8(try length(8))))  // BINUNICODE8
            case 0x54:  // BINSTRING (signed length)
                let n = try uintLE(4)
                guard n < 1 << 31 else { throw fail("negative BINSTRING length", at: opAt) }
                stack.append(.bytes(Data(try take(Int(n)))))
            case 0x55: stack.append(.bytes(Data(try take(try length(1)))))  // SHORT_BINSTRING
            case 0x42: stack.append(.bytes(Data(try take(try length(4)))))  // BINBYTES
            case 0x43: stack.append(.bytes(Data(try take(try length(1)))))  // SHORT_BINBYTES
            case 0x8E: stack.append(.bytes(Data(try take(try length(8)))))  // BINBYTES8
            case 0x7D: stack.append(.dict(make(PickleDict(ordered: false))))  // EMPTY_DICT
            case 0x5D: stack.append(.list(make(PickleList())))  // EMPTY_LIST
            case 0x29: stack.append(tuple([]))  // EMPTY_TUPLE
            case 0x64:  // DICT
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("DICT with an odd number of items", at: opAt) }
                let d = make(PickleDict(ordered: false))
                for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
                stack.append(.dict(d))
            case 0x6C: stack.append(.list(make(PickleList(try popMark()))))  // LIST
            case 0x74: stack.append(tuple(try popMark()))  // TUPLE
            case 0x85:
                let a = try pop()
                stack.append(tuple([a]))  // TUPLE1
            case 0x86:
                let b = try pop()
                let a = try pop()
                stack.append(tuple([a, b]))  // TUPLE2
            case 0x87:  // TUPLE3
                let c = try pop()
                let b = try pop()
                let a = try pop()
                stack.append(tuple([a, b, c]))
            // Sets (protocol 4+, e.g. a module's _non_persistent_buffers_set) are kept as opaque set objects.
            case 0x8F: stack.append(.object(make(PickleObject(className: "builtins.set", args: []))))  // EMPTY_SET
            case 0x90:
                let vs = try popMark()
                try append(vs, at: opAt)  // ADDITEMS
            case 0x91:  // FROZENSET
                let o = make(PickleObject(className: "builtins.frozenset", args: []))
                o.listItems = try popMark()
                stack.append(.object(o))
            case 0x61:
                let v = try pop()
                try append([v], at: opAt)  // APPEND
            case 0x65:
                let vs = try popMark()
                try append(vs, at: opAt)  // APPENDS
            case 0x73:  // SETITEM
                let v = try pop()
                let k = try pop()
                try setItems([k, v], at: opAt)
            case 0x75: try setItems(try popMark(), at: opAt)  // SETITEMS
            case 0x71: try put(UInt64(try u8()))  // BINPUT
            case 0x72: try put(try uintLE(4))  // LONG_BINPUT
            case 0x94: try put(UInt64(memo.count))  // MEMOIZE
            case 0x68: try get(UInt64(try u8()), at: opAt)  // BINGET
            case 0x6A: try get(try uintLE(4), at: opAt)  // LONG_BINGET
            case 0x63:  // GLOBAL
                let module = try line()
                let name = try line()
                noteGlobal(module + "." + name)
                stack.append(.global(module + "." + name))
            case 0x93:  // STACK_GLOBAL
                let name = try pop()
                let module = try pop()
                guard let n = name.string, let m = module.string else {
                    throw fail("STACK_GLOBAL needs two strings", at: opAt)
                }
                noteGlobal(m + "." + n)
                stack.append(.global(m + "." + n))
            case 0x52:  // REDUCE
                let args = try pop()
                let callable = try pop()
                stack.append(try call(callable, args, at: opAt))
            case 0x81:  // NEWOBJ
                let args = try pop()
                let cls = try pop()
                stack.append(try call(cls, args, at: opAt))
            case 0x92:  // NEWOBJ_EX: keyword arguments are kept as an extra argument
                let kwargs = try pop()
                let args = try pop()
                let cls = try pop()
                let v = try call(cls, args, at: opAt)
                if case .object(let o) = v { o.args.append(kwargs) }
                stack.append(v)
            case 0x62:  // BUILD
                let state = try pop()
                let target = stack[try topIndex()]
                switch target {
                case .object(let o): o.state = state
                // An OrderedDict's __dict__ (a state dict's `_metadata`) and a tensor's Python attributes
                // carry no array data.
                case .dict, .tensor: break
                default: throw fail("BUILD on a \(target.typeDescription)", at: opAt)
                }
            case 0x51:  // BINPERSID
                let pid = try pop()
                guard let host else { throw fail("a persistent id outside a torch archive", at: opAt) }
                do { stack.append(try host.storage(persistentID: pid)) } catch let e as PickleError {
                    throw fail(e.message, at: opAt)
                }
            default:
                throw fail(String(format: "opcode 0x%02X is not supported by this restricted reader", op), at: opAt)
            }
        }
    }

    private func long(_ n: Int) throws -> PickleValue {
        let raw = try take(n)
        if n == 0 { return .int(0) }
        if n > 8 { return .largeInt(Data(raw)) }
        var v: UInt64 = 0
        for (i, b) in raw.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        if raw.last! & 0x80 != 0 && n < 8 { v |= ~0 << (8 * UInt64(n)) }  // sign-extend
        return .int(Int64(bitPattern: v))
    }

    private func put(_ key: UInt64) throws {
        guard let top = stack.last else { throw fail("memo store with an empty stack") }
        memo[key] = top
    }

    private func get(_ key: UInt64, at offset: Int) throws {
        guard let v = memo[key] else { throw fail("memo key \(key) was never stored", at: offset) }
        stack.append(v)
    }

    private func append(_ values: [PickleValue], at offset: Int) throws {
        switch stack[try topIndex()] {
        case .list(let l): l.items.append(contentsOf: values)
        case .object(let o): o.listItems.append(contentsOf: values)
        case let other: throw fail("APPEND to a \(other.typeDescription)", at: offset)
        }
    }

    private func setItems(_ kv: [PickleValue], at offset: Int) throws {
        guard kv.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items", at: offset) }
        switch stack[try topIndex()] {
        case .dict(let d):
            for i in stride(from: 0, to: kv.count, by: 2) { d.set(kv[i], kv[i + 1]) }
        case .object(let o):
            for i in stride(from: 0, to: kv.count, by: 2) { o.dictItems.append((kv[i], kv[i + 1])) }
        case let other: throw fail("SETITEM on a \(other.typeDescription)", at: offset)
        }
    }

    /// REDUCE/NEWOBJ: interprets the whitelisted torch/collections callables, and records every other call
    /// as an opaque object. Nothing is executed.
    private func call(_ callable: PickleValue, _ argsValue: PickleValue, at offset: Int) throws -> PickleValue {
        guard case .global(let called) = callable else {
            throw fail("REDUCE/NEWOBJ on a \(callable.typeDescription), not a class or function", at: offset)
        }
        guard case .tuple(let argsTuple) = argsValue else {
            throw fail("REDUCE/NEWOBJ arguments are a \(argsValue.typeDescription), not a tuple", at: offset)
        }
        var name = called
        var args = argsTuple.items
        // _rebuild_from_type_v2(func, new_type, args, state): a Tensor subclass around func(*args). Unwrapped in a
        // loop, not by recursion: a hostile pickle can nest it thousands deep before any depth check sees the tree.
        while TorchGlobals.rebuildFromType.contains(name), args.count >= 3, case .global(let inner) = args[0],
            case .tuple(let innerArgs) = args[2]
        {
            name = inner
            args = innerArgs.items
        }
        do {
            if TorchGlobals.orderedDict.contains(name) {
                let d = make(PickleDict(ordered: true))
                if let first = args.first {
                    let pairs: [PickleValue]
                    switch first {
                    case .list(let l): pairs = l.items
                    case .tuple(let t): pairs = t.items
                    default: throw PickleError(message: "OrderedDict from a \(first.typeDescription)")
                    }
                    for p in pairs {
                        guard case .tuple(let kv) = p, kv.items.count == 2 else {
                            throw PickleError(message: "OrderedDict items must be (key, value) pairs")
                        }
                        d.set(kv.items[0], kv.items[1])
                    }
                }
                return .dict(d)
            }
            if TorchGlobals.rebuildTensor.contains(name) || TorchGlobals.rebuildTensorLegacy.contains(name) {
                guard let host else { throw PickleError(message: "a tensor outside a torch archive") }
                return .tensor(try host.rebuildTensor(args: args))
            }
            if TorchGlobals.rebuildParameter.contains(name) {
                guard let data = args.first, case .tensor = data else {
                    throw PickleError(message: "\(name) without a tensor argument")
                }
                return data
            }
            if name == "torch.Size", let first = args.first, case .tuple = first { return first }
        } catch let e as PickleError {
            throw fail(e.message, at: offset)
        }
        return .object(make(PickleObject(className: name, args: args)))
    }

    /// Rejects cycles and nesting deeper than `maxDepth` (iteratively), and returns the reachable containers.
    private func checkShape(_ root: PickleValue) throws -> Set<ObjectIdentifier> {
        func container(_ v: PickleValue) -> PickleContainer? {
            switch v {
            case .list(let c): return c
            case .tuple(let c): return c
            case .dict(let c): return c
            case .object(let c): return c
            default: return nil
            }
        }
        var height: [ObjectIdentifier: Int] = [:]
        var onPath = Set<ObjectIdentifier>()
        struct Frame {
            let id: ObjectIdentifier
            let children: [PickleValue]
            var next = 0
            var tallest = 0
        }
        guard let rootContainer = container(root) else { return [] }
        var frames = [Frame(id: ObjectIdentifier(rootContainer), children: rootContainer.children)]
        onPath.insert(frames[0].id)
        while !frames.isEmpty {
            let top = frames.count - 1
            if frames[top].next < frames[top].children.count {
                let child = frames[top].children[frames[top].next]
                frames[top].next += 1
                guard let c = container(child) else { continue }
                let id = ObjectIdentifier(c)
                if onPath.contains(id) {
                    throw PickleError(message: "the object refers to itself (a cycle); not a tensor container")
                }
                if let h = height[id] {
                    guard frames.count + h <= Unpickler.maxDepth else {
                        throw PickleError(message: "containers nested deeper than \(Unpickler.maxDepth) levels")
                    }
                    frames[top].tallest = max(frames[top].tallest, h)
                    continue
                }
                guard frames.count < Unpickler.maxDepth else {
                    throw PickleError(message: "containers nested deeper than \(Unpickler.maxDepth) levels")
                }
                onPath.insert(id)
                frames.append(Frame(id: id, children: c.children))
            } else {
                let done = frames.removeLast()
                onPath.remove(done.id)
                height[done.id] = done.tallest + 1
                if !frames.isEmpty {
                    frames[frames.count - 1].tallest = max(frames[frames.count - 1].tallest, done.tallest + 1)
                }
            }
        }
        return Set(height.keys)
    }
}

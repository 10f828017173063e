import Foundation
import VLSAECore
import VLSAEModel

/// One row's activation of one concept: the row's index in its input and the activation value.
@MemberwiseInit
public struct RankedActivation: Codable, Equatable, Sendable {
    /// Row of the input (image or text) in [0, N).
    public var index: Int
    /// The concept's activation on that row (> 0).
    public var activation: Float

    /// The ranking order: a larger activation first, and between equal activations the lower index.
    public func ranksAbove(_ other: RankedActivation) -> Bool {
        activation > other.activation || (activation == other.activation && index < other.index)
    }
}

/// For every concept (hidden unit), the `capacity` rows with the largest activations seen so far, and
/// how many rows activated it. Rows are fed chunk by chunk as sparse codes, so memory is
/// O(concepts × capacity) whatever the number of rows; the kept set depends only on the rows, not
/// on how they were chunked or ordered, because the ranking (`RankedActivation.ranksAbove`) is a
/// total order.
public struct TopActivations: Sendable {
    /// Number of concepts tracked (the hidden size h).
    public let concepts: Int
    /// Rows kept per concept.
    public let capacity: Int
    /// Rows fed so far.
    public private(set) var rowsSeen = 0
    /// Per concept, the number of rows in which it was active (kept by the row's top-k with a non-zero
    /// activation).
    public private(set) var activeCounts: [Int]

    // Per concept a binary min-heap under `ranksAbove` in slots [j·capacity, j·capacity + sizes[j]):
    // the root is the entry every newcomer has to beat.
    private var heapIndices: [Int]
    private var heapValues: [Float]
    private var sizes: [Int]

    /// An empty collector for `concepts` concepts keeping `capacity` rows each (both clamped at 0).
    public init(concepts: Int, capacity: Int) {
        self.concepts = max(concepts, 0)
        self.capacity = max(capacity, 0)
        activeCounts = [Int](repeating: 0, count: self.concepts)
        heapIndices = [Int](repeating: 0, count: self.concepts * self.capacity)
        heapValues = [Float](repeating: 0, count: self.concepts * self.capacity)
        sizes = [Int](repeating: 0, count: self.concepts)
    }

    /// Feeds the rows of `codes` as rows `firstRow ..< firstRow + codes.rows` of the input.
    public mutating func add(_ codes: SparseCodes, firstRow: Int) {
        precondition(codes.hidden == concepts, "codes have \(codes.hidden) units, collector tracks \(concepts)")
        for r in 0..<codes.rows {
            let base = r * codes.k
            for t in 0..<Int(codes.counts[r]) {
                let value = codes.values[base + t]
                guard value != 0 else { continue }
                let j = Int(codes.indices[base + t])
                activeCounts[j] += 1
                offer(RankedActivation(index: firstRow + r, activation: value), to: j)
            }
        }
        rowsSeen += codes.rows
    }

    /// Fraction of the rows fed in which `concept` was active (0 before any row).
    public func frequency(_ concept: Int) -> Double {
        rowsSeen == 0 ? 0 : Double(activeCounts[concept]) / Double(rowsSeen)
    }

    /// The kept rows of `concept`, best first (larger activation, then lower index).
    public func ranked(_ concept: Int) -> [RankedActivation] {
        let base = concept * capacity
        return (0..<sizes[concept]).map {
            RankedActivation(index: heapIndices[base + $0], activation: heapValues[base + $0])
        }
        .sorted { $0.ranksAbove($1) }
    }

    private func entry(_ slot: Int) -> RankedActivation {
        RankedActivation(index: heapIndices[slot], activation: heapValues[slot])
    }

    private mutating func put(_ e: RankedActivation, _ slot: Int) {
        heapIndices[slot] = e.index
        heapValues[slot] = e.activation
    }

    private mutating func offer(_ e: RankedActivation, to j: Int) {
        guard capacity > 0 else { return }
        let base = j * capacity
        var n = sizes[j]
        if n < capacity {
            // Sift up: a parent must rank above nothing below it, i.e. the worst entry sits at the root.
            var i = n
            n += 1
            sizes[j] = n
            while i > 0 {
                let parent = (i - 1) / 2
                let p = entry(base + parent)
                guard p.ranksAbove(e) else { break }
                put(p, base + i)
                i = parent
            }
            put(e, base + i)
            return
        }
        guard e.ranksAbove(entry(base)) else { return }
        // Replace the root and sift down.
        var i = 0
        while true {
            let left = 2 * i + 1
            guard left < n else { break }
            var worst = left
            let right = left + 1
            if right < n, entry(base + left).ranksAbove(entry(base + right)) { worst = right }
            let w = entry(base + worst)
            guard e.ranksAbove(w) else { break }
            put(w, base + i)
            i = worst
        }
        put(e, base + i)
    }
}

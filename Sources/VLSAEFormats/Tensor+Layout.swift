import VLSAECore

extension Tensor {
    /// The same array with its values reordered from column-major (Fortran) to row-major (C) order: the
    /// element at index (i₀, …, iₙ₋₁) is read from offset i₀ + d₀·(i₁ + d₁·(i₂ + …)). A `.npy` file with
    /// `fortran_order: True` (what `np.save(x.T)` writes) stores its data this way.
    public func fromColumnMajor() -> Tensor {
        guard shape.count >= 2 else { return self }
        // Column-major strides: the first axis is contiguous.
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in 1..<shape.count { strides[axis] = strides[axis - 1] * shape[axis - 1] }
        func reorder<T>(_ values: [T]) -> [T] {
            guard !values.isEmpty else { return values }
            var out: [T] = []
            out.reserveCapacity(values.count)
            var index = [Int](repeating: 0, count: shape.count)
            for _ in 0..<values.count {
                var offset = 0
                for axis in 0..<shape.count { offset += index[axis] * strides[axis] }
                out.append(values[offset])
                // Advance the row-major counter: the last axis fastest.
                var axis = shape.count - 1
                while axis >= 0 {
                    index[axis] += 1
                    if index[axis] < shape[axis] { break }
                    index[axis] = 0
                    axis -= 1
                }
            }
            return out
        }
        switch storage {
        case .float(let f): return Tensor(shape: shape, dtype: dtype, storage: .float(reorder(f)))
        case .integer(let i): return Tensor(shape: shape, dtype: dtype, storage: .integer(reorder(i)))
        }
    }

    /// The transpose of a 2-D array (rows become columns); other ranks are returned unchanged.
    public func transposed() -> Tensor {
        guard shape.count == 2 else { return self }
        // A row-major r × c array read as column-major c × r is its transpose.
        let swapped = Tensor(shape: [shape[1], shape[0]], dtype: dtype, storage: storage)
        return swapped.fromColumnMajor()
    }

    /// The arrays joined along the first axis, in the order given (`names` label them in errors). All must have the
    /// same dtype and the same trailing dimensions.
    public static func concatenated(_ parts: [Tensor], names: [String]) throws -> Tensor {
        guard let first = parts.first else { throw VLSAEError.usage("no arrays to concatenate") }
        let inner = Array(first.shape.dropFirst())
        guard !first.shape.isEmpty else {
            throw VLSAEError.file(names[0], "a 0-dimensional array cannot be a shard")
        }
        var floats: [Float] = []
        var ints: [Int64] = []
        var rows = 0
        for (part, name) in zip(parts, names) {
            guard part.shape.count == first.shape.count, Array(part.shape.dropFirst()) == inner else {
                throw VLSAEError.file(
                    name,
                    "shape \(part.shapeDescription) does not continue \(names[0]) (shape \(first.shapeDescription))")
            }
            guard part.dtype == first.dtype else {
                throw VLSAEError.file(
                    name, "dtype \(part.dtype.rawValue) differs from \(names[0]) (\(first.dtype.rawValue))")
            }
            rows += part.shape[0]
            switch part.storage {
            case .float(let f): floats += f
            case .integer(let i): ints += i
            }
        }
        let storage: Storage = first.dtype.isFloatingPoint ? .float(floats) : .integer(ints)
        return Tensor(shape: [rows] + inner, dtype: first.dtype, storage: storage)
    }
}

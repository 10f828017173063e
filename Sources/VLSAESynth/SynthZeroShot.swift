import VLSAECore

/// The plain CLIP_benchmark zero-shot rule, kept here only to check the synthetic suite's
/// difficulty (the real evaluator lives in VLSAEEval): normalise each template embedding,
/// average over templates, normalise; predict argmax of image · classifierᵀ.
public enum SynthZeroShot {
    /// C × d classifier from C·T rows ordered class-major (row c·T + t).
    public static func classifier(classTexts: Matrix, templates: Int) throws -> Matrix {
        guard templates > 0, classTexts.rows % templates == 0 else {
            throw VLSAEError.mismatch("\(classTexts.rows) class text rows are not a multiple of \(templates) templates")
        }
        let t = classTexts.normalizedRows(), d = t.cols, c = t.rows / templates
        var out = Matrix(rows: c, cols: d)
        for k in 0..<c { for tt in 0..<templates { for j in 0..<d { out[k, j] += t[k * templates + tt, j] } } }
        out.normalizeRows()
        return out
    }

    /// Top-1 accuracy in [0, 1].
    public static func top1(images: Matrix, labels: [Int], classTexts: Matrix, templates: Int) throws -> Double {
        guard images.rows == labels.count, images.rows > 0 else {
            throw VLSAEError.mismatch("\(images.rows) images but \(labels.count) labels")
        }
        let w = try classifier(classTexts: classTexts, templates: templates)
        guard w.cols == images.cols else { throw VLSAEError.mismatch("image dimension \(images.cols) ≠ text dimension \(w.cols)") }
        let x = images.normalizedRows()
        var correct = 0
        let block = 2048
        var start = 0
        while start < x.rows {
            let end = min(start + block, x.rows)
            let s = BLAS.matmul(x.rows(start..<end), w, transB: true)
            for i in 0..<(end - start) {
                var best = 0
                for j in 1..<w.rows where s[i, j] > s[i, best] { best = j }
                if best == labels[start + i] { correct += 1 }
            }
            start = end
        }
        return Double(correct) / Double(x.rows)
    }
}

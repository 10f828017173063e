import VLSAECore
import VLSAEEval

/// A minimal VL-SAE written from the formulas in the fixture generator, standing in for the
/// `VLSAEModel` type until that lands: x̂ = x/‖x‖, ŵ = W/‖W‖, a = 2 − √(2 − 2·x̂ŵᵀ), keep |a|
/// strictly above the (h−k)-th smallest |a| of the row; affine decoders.
struct AlignmentFixtureModel: ConceptMap {
    let inputDim: Int
    let trainedK: Int
    let hiddenSize: Int
    let encoder: Matrix
    let decoders: [ConceptSide: (weight: Matrix, bias: [Float])]

    static func load(_ f: AlignmentTests.Fixture) -> AlignmentFixtureModel {
        let h = f.d * f.hidden_ratio
        func dec(_ name: String) -> (Matrix, [Float]) {
            (Matrix(rows: f.d, cols: h, values: f.model["\(name).weight"]!.values), f.model["\(name).bias"]!.values)
        }
        return AlignmentFixtureModel(
            inputDim: f.d, trainedK: f.k, hiddenSize: h,
            encoder: Matrix(rows: h, cols: f.d, values: f.model["encoder"]!.values),
            decoders: [.image: dec("vision_decoder"), .text: dec("text_decoder")])
    }

    func hidden(_ x: Matrix, side: ConceptSide, k: Int) -> Matrix {
        let dots = BLAS.matmul(x.normalizedRows(), encoder.normalizedRows(), transB: true)
        var out = Matrix(rows: x.rows, cols: hiddenSize)
        for r in 0..<x.rows {
            let a = (0..<hiddenSize).map { 2 - max(0, 2 - 2 * dots[r, $0]).squareRoot() }
            let threshold = a.map(abs).sorted()[hiddenSize - k - 1]
            for j in 0..<hiddenSize where abs(a[j]) > threshold { out[r, j] = a[j] }
        }
        return out
    }

    func reconstruction(_ x: Matrix, side: ConceptSide, k: Int) -> Matrix {
        let (w, b) = decoders[side]!
        var out = BLAS.matmul(hidden(x, side: side, k: k), w, transB: true)
        for r in 0..<out.rows { for c in 0..<out.cols { out[r, c] += b[c] } }
        return out
    }
}

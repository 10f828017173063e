import Foundation
import VLSAECore
import VLSAEReport

/// Placeholder until the model stage lands.
public struct StandardSweepBackend: SweepBackend {
    public init() {}
    public func train(_ request: SweepTrainingRequest, to path: String) throws { throw VLSAEError.usage("training not available") }
    public func measure(checkpoint path: String, request: SweepTrainingRequest, k: Int) throws -> SweepTrainingFacts { throw VLSAEError.usage("n/a") }
    public func evaluate(checkpoint path: String, alignment: String, manifests: [String], evaluation: SweepEvaluation, threads: Int) throws -> [ResultRow] { throw VLSAEError.usage("n/a") }
}

import VLSAECore
import VLSAEReport

/// `vlsae report`: result files → one paper-style table (see `ReportTable` for the cell rules).
public enum ReportJob {
    /// Reads the result files in order and renders the table.
    public static func run(
        results: [String], format: ReportTable.Format, metric: String = "acc1",
        diagnostics: Bool = true
    ) throws -> String {
        guard !results.isEmpty else { throw VLSAEError.usage("no result file given") }
        let docs = try results.map { ($0, try ResultDocument.read(from: $0)) }
        return try ReportTable(documents: docs, metric: metric, diagnostics: diagnostics).render(format)
    }
}

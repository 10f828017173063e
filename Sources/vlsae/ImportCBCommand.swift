import ArgumentParser
import Foundation
import VLSAECore
import VLSAEJobs

struct ImportCBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-cb",
        abstract: "Turn CLIP_benchmark result JSON files into a result file that report and regress read.",
        discussion: """
            Each file (zeroshot_classification only) becomes one baseline row: method and variant \
            "cosine" (or those vlsae export-cb recorded), its metrics, no intervals. A bare NaN, which \
            CLIP_benchmark writes for acc5 on datasets with fewer than 5 classes, is accepted, stored as \
            null and listed in the row's imported.nan_metrics. The document records no input hashes \
            (the numbers were computed elsewhere); its provenance has numerics "clip_benchmark", so \
            `vlsae regress` compares it with an evaluation of the same datasets within tolerance, never \
            byte for byte. Class-name and template hashes are recorded when the files hold the lists \
            (clip_benchmark eval --dump_classnames --dump_templates).
            """)

    @Argument(help: ArgumentHelp("CLIP_benchmark result files.", valueName: "file.json"))
    var files: [String]

    @Option(help: ArgumentHelp("Result file to write (atomically).", valueName: "result.json"))
    var out: String

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one CLIP_benchmark result file") }
    }

    func run() throws {
        try reportingErrors {
            let doc = try ClipBenchmarkJob.importResults(
                files: files, command: recordedCommandLine, tool: ToolIdentity.record())
            try doc.write(to: out)
            show("wrote \(out): \(doc.results.count) row(s)")
        }
    }
}

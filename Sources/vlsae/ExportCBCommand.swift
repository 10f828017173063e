import ArgumentParser
import Foundation
import VLSAECore
import VLSAEJobs

struct ExportCBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-cb",
        abstract: "Write each row of a result file as a CLIP_benchmark result JSON.",
        discussion: """
            One file per row, in CLIP_benchmark's format (clip_benchmark/cli.py): dataset, model, \
            pretrained, task (zeroshot_classification), metrics {acc1, acc5, mean_per_class_recall} and \
            language, plus the row's method and variant. An undefined acc5 (fewer than 5 classes) is \
            written as NaN, as CLIP_benchmark writes it. Files are named as CLIP_benchmark names its \
            output, {dataset}_{pretrained}_{model}_{language}_{task}.json; rows other than a baseline \
            add __ and their variant. `clip_benchmark build DIR/*.json` tabulates them; `vlsae import-cb` \
            reads them back.
            """)

    @Argument(help: ArgumentHelp("Result file written by vlsae eval (or import-cb).", valueName: "result.json"))
    var result: String

    @Option(help: ArgumentHelp("Folder to write the files into (created when missing).", valueName: "dir"))
    var out: String

    func run() throws {
        try reportingErrors {
            let files = try ClipBenchmarkJob.export(result: result)
            do {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            } catch { throw VLSAEError.file(out, "cannot create the folder: \(error.localizedDescription)") }
            for file in files {
                let path = (out as NSString).appendingPathComponent(file.name)
                try AtomicFile.write(file.bytes, to: path)
                show(path)
            }
        }
    }
}

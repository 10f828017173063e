import ArgumentParser
import Foundation
import VLSAECore
import VLSAEJobs

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Baseline zero-shot classification (CLIP_benchmark protocol) of one or more manifests.",
        discussion: """
        Each manifest is a JSON file describing one dataset by cached embeddings:
          {
            "name": "cifar10", "model": "ViT-B-32", "pretrained": "laion2b_s34b_b79k",
            "image_embeddings": "cifar10.npz:images",   N × d
            "labels": "cifar10.npz:labels",              N integers in [0, C)
            "classnames": [...] or "<catalog entry>",    C strings
            "templates": [...] or "<catalog entry>",     T strings
            "text_embeddings": "text.npy"                C × T × d, one per template
          }
        Instead of "text_embeddings" a manifest may give "classifier": "cls.npy" (C × d, already \
        averaged over templates; recorded as template_level false; "templates" is still required \
        and hashed). Array paths are tensor addresses (file.npy, file.npy[0], archive.npz:name, \
        file.safetensors:name) relative to the manifest's folder.

        Classifier: each template embedding L2-normalised, averaged over templates, normalised \
        again; logits = 100 · normalise(image) · classifierᵀ. An image is correct at k when fewer \
        than k classes have a strictly greater logit than its true class (ties favour the true \
        class). Metrics: acc1, acc5 (null when fewer than 5 classes), mean_per_class_recall \
        (balanced accuracy), and a seeded percentile-bootstrap 95% interval for acc1.

        The result file (sorted keys, no timestamps) records the tool's git commit (git rev-parse \
        HEAD in the executable's folder, "unknown" outside a checkout), the command, \
        the seed, and the path and SHA-256 of every input file, plus classnames_sha256 and \
        templates_sha256: SHA-256 of the UTF-8 bytes of each string followed by "\\n".
        """)

    @Option(name: .customLong("data"), parsing: .upToNextOption,
            help: ArgumentHelp("Manifest file(s) (JSON), evaluated in order.", valueName: "manifest"))
    var data: [String] = []

    @Option(name: .customLong("out"), help: ArgumentHelp("Result file (JSON), written atomically.", valueName: "file.json"))
    var out: String

    @Option(name: .customLong("bootstrap"), help: "Bootstrap resamples for the acc1 interval (at least 1000).")
    var bootstrap: Int = 1000

    @Option(name: .customLong("seed"), help: "Seed of the bootstrap resampling (recorded in the result).")
    var seed: UInt64 = 0

    @Flag(name: .customLong("per-class"), help: "Also record the recall of every class.")
    var perClass = false

    @Option(name: .customLong("threads"), help: "BLAS threads (default: OpenBLAS's own choice).")
    var threads: Int?

    func validate() throws {
        if data.isEmpty { throw ValidationError("give at least one manifest with --data") }
        if bootstrap < EvalJob.minimumResamples {
            throw ValidationError("--bootstrap must be at least \(EvalJob.minimumResamples), got \(bootstrap)")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        let options = EvalJob.Options(
            manifests: data, output: out, bootstrapResamples: bootstrap, seed: seed, perClass: perClass,
            threads: threads, command: ["vlsae"] + CommandLine.arguments.dropFirst(),
            tool: ToolIdentity.record())
        try reportingErrors {
            let doc = try EvalJob.run(options)
            print(EvalJob.table(doc))
            Progress.note("wrote \(out)")
        }
    }
}

/// Turns the project's errors into one line on stderr and the documented exit status
/// (1 for a bad file or mismatch, 64 for a bad request).
func reportingErrors(_ body: () throws -> Void) throws {
    do { try body() } catch let e as VLSAEError {
        FileHandle.standardError.write(Data("vlsae: error: \(e)\n".utf8))
        if case .usage = e { throw ExitCode(64) }
        throw ExitCode.failure
    }
}

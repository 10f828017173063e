import ArgumentParser
import Foundation
import VLSAECore
import VLSAEJobs

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Why an alignment row gained or lost images: the concepts that moved each flipped image's logit.",
        discussion: """
            Re-derives one cosine+concept (or planted-concepts) row of a result document from what it \
            records: the manifests, checkpoint and planted codes by path, each checked against its \
            recorded SHA-256, the variant string and the fold seed. The re-derived acc1 and flip counts \
            must equal the recorded ones, or explain stops (exit 1).

            For every image the row got right and the baseline wrong (gained), and the reverse (lost), \
            it splits the concept term cos(f(v), f(t_c)) of the true class and of the rival class (the \
            baseline's wrong choice for a gain, the row's for a loss) into its terms \
            f(v)_u * f(t_c)_u over the units u where both codes are non-zero, largest first: hidden units \
            for representation=hidden, planted concepts for planted, embedding dimensions for \
            reconstruction. It also tabulates, per class, the images gained and lost.

            Writes DIR/explain.json (every flipped image, up to --limit terms per class and the sum of the \
            rest) and DIR/explain.md (a summary), both atomically. With --image-paths (a list of the \
            dataset's images, one per line or a JSON array, as for vlsae concepts; one dataset only) it also \
            draws DIR/montages/<dataset>-gained.jpg and -lost.jpg: the first 64 flipped images of each \
            direction, labelled "#image true>rival" (class indices), missing or unreadable ones as \
            placeholders.
            """)

    @Argument(help: ArgumentHelp("Result document written by vlsae eval.", valueName: "result.json"))
    var result: String

    @Option(
        help: ArgumentHelp(
            "The row's variant string, as in the result (and the report's footnotes).", valueName: "variant"))
    var row: String

    @Option(help: ArgumentHelp("Explain only this dataset of the row.", valueName: "name"))
    var dataset: String?

    @Option(help: "Terms listed per class logit; the rest are summed.")
    var limit: Int = 20

    @Option(help: ArgumentHelp("Output folder (created if needed).", valueName: "dir"))
    var out: String

    @Option(
        help: ArgumentHelp(
            "The explained dataset's image files, one per image (text or JSON list): draw montages.",
            valueName: "list"))
    var imagePaths: String?

    @OptionGroup var parallel: ThreadsOption
    @OptionGroup var progress: ProgressOption

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
    }

    func run() throws {
        try reportingErrors(threads: parallel.threads) {
            let json = (out as NSString).appendingPathComponent("explain.json")
            let md = (out as NSString).appendingPathComponent("explain.md")
            try refuseOverwritingInputs(outputs: [json, md], inputs: [result, imagePaths])
            var doc = try ExplainJob.run(
                ExplainJob.Options(
                    resultPath: result, variant: row, dataset: dataset, limit: limit, threads: parallel.threads,
                    progress: progress.enabled))
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            if let imagePaths { doc.montages = try ExplainMontages.draw(doc, imagePaths: imagePaths, folder: out) }
            try AtomicFile.write(try CanonicalJSON.encode(doc), to: json)
            try AtomicFile.write(Data(ExplainJob.markdown(doc).utf8), to: md)
            for d in doc.datasets { show("\(d.dataset): \(d.gained) gained, \(d.lost) lost") }
            Progress.note("wrote \(json) and \(md)")
        }
    }
}

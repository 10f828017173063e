import ArgumentParser
import Foundation
import VLSAECore
import VLSAEJobs

struct ConceptsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "concepts",
        abstract: "Show what each concept of a checkpoint is: top images and texts, figures, montages, a web page.",
        discussion: """
            Encodes the image and text embeddings with the checkpoint (in chunks; per concept only its \
            --top best rows are kept) and writes OUT/concepts.json: per concept its top images and texts \
            (row, activation, and the path or caption when known; equal activations go to the lower row), \
            how often it is active per modality and, for paired inputs (row i of both is a pair, assumed \
            when the counts are equal unless --unpaired), its agreement: how many of its top images' \
            captions are among its top texts. Whole-dictionary figures: dead fraction (active in no row), \
            dense fraction (active in more than 10 % of the images or of the texts), and the mean cosine \
            among a concept's top images, among its top texts and between their means, each also for a \
            random dictionary of the same shape (--seed) as a reference.

            --image-paths and --captions are lists with one entry per row: a .json file holding a JSON \
            array of strings, or a text file with one entry per line. Relative image paths are relative \
            to the list's folder. With --image-paths, OUT/montages/concept-<i>.jpg shows each concept's \
            top images (JPEG or PNG files; a missing or unreadable one is drawn as a grey placeholder and \
            counted). OUT/index.html is a static page of the concepts (montages, top captions), sortable \
            by frequency and agreement, that works offline.
            """)

    @Option(help: ArgumentHelp("Checkpoint (.safetensors or official .pth).", valueName: "ckpt")) var sae: String
    @Option(help: ArgumentHelp("Image embeddings (tensor address, N × d).", valueName: "source")) var images: String
    @Option(help: ArgumentHelp("Text embeddings (tensor address, M × d).", valueName: "source")) var texts: String
    @Option(help: ArgumentHelp("Image files, one per image row (.json array or one per line).", valueName: "list"))
    var imagePaths: String?
    @Option(help: ArgumentHelp("Captions, one per text row (.json array or one per line).", valueName: "list"))
    var captions: String?
    @Option(help: ArgumentHelp("Rows kept per concept and modality.", valueName: "n")) var top: Int = 16
    @Option(help: ArgumentHelp("Concepts to list: all, or indices i,j,...", valueName: "all|i,j,...")) var concepts:
        String = "all"
    @Option(help: ArgumentHelp("Active units per row, at most the trained k.", valueName: "K")) var k: Int?
    @Flag(help: "The inputs are not pairs, even when their counts are equal (no agreement).") var unpaired = false
    @Option(help: ArgumentHelp("Output folder.", valueName: "dir")) var out: String
    @OptionGroup var seed: SeedOption
    @OptionGroup var parallel: ThreadsOption
    @OptionGroup var progress: ProgressOption

    func run() throws {
        try reportingErrors(threads: parallel.threads) {
            let options = ConceptsJob.Options(
                checkpoint: sae, images: images, texts: texts, imagePaths: imagePaths, captions: captions, top: top,
                concepts: try ConceptsJob.concepts(parsing: concepts), k: k, seed: seed.seed, unpaired: unpaired,
                threads: parallel.threads, command: recordedCommandLine, progress: progress.enabled)
            let result = try ConceptsJob.run(options, tool: ToolIdentity.record())
            let doc = try result.write(to: out, progress: progress.enabled)
            let f = doc.figures
            Progress.note(
                String(
                    format:
                        "wrote %@/concepts.json and index.html (%d concepts%@); dead %.3f (random %.3f), dense %.3f (random %.3f)",
                    out, doc.concepts.count, doc.montages.map { ", \($0.drawn) montages" } ?? "",
                    f.trained.deadFraction, f.random.deadFraction, f.trained.denseFraction, f.random.denseFraction))
        }
    }
}

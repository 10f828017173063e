import ArgumentParser
import Foundation
import VLSAECore
import VLSAEEval
import VLSAEJobs
import VLSAEReport

extension DegenerateRowPolicy: ExpressibleByArgument {}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract:
            "Zero-shot classification of one or more manifests: the CLIP_benchmark baseline and concept-aligned variants.",
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
            again; logits = 100 · normalise(image) · classifierᵀ. An image is correct at k when its true \
            class is among the first k after sorting the classes by logit, largest first, ties broken \
            by class index (lowest first): a tie never favours the label, so rows whose logits are all \
            equal count as class 0. Metrics: acc1, acc5 (null when fewer than 5 classes), mean_per_class_recall \
            (balanced accuracy), and a percentile-bootstrap 95% interval for acc1 seeded by --seed.

            The result file (sorted keys, no timestamps) records the tool's git commit (git rev-parse \
            HEAD in the executable's folder, "unknown" outside a checkout), the command, \
            the seed, and the path and SHA-256 of every input file, plus classnames_sha256 and \
            templates_sha256: SHA-256 of the UTF-8 bytes of each string followed by "\\n".

            CONCEPT-LEVEL ALIGNMENT (--sae <checkpoint> --alignment <spec> ...). Each spec adds, per \
            dataset, a row scored with
              logit = cos(v, t_c) + alpha * cos(f(v), f(t_c))        method cosine+concept
            and a diagnostic row with cos(f(v), f(t_c)) alone         method concept-only
            (the factor 100 of the baseline is dropped: it changes no ranking). A spec is one string
              representation=hidden|reconstruction|planted,text=average-first|per-template,
              alpha=fixed:<a>|table:<file>|validated:<grid>|oracle:<grid>[,k=<k'>][,folds=<n>][,val=<manifest>]
            keys separated by ',', grid values by ';' (e.g. alpha=validated:0;0.25;0.5;1;2, quote it in \
            the shell). Defaults: representation=hidden, text=average-first; alpha is required.
              representation  hidden: the sparse code; reconstruction: images through the vision \
            decoder, text through the text decoder; planted: the ground-truth concept codes a \
            `vlsae synth` suite writes beside each manifest (image_concepts.npy, \
            image_concept_weights.npy, class_concepts.npy), the positive control a perfect autoencoder \
            would reach; it needs no --sae, takes no text= or k=, and its row is method planted-concepts.
              text            average-first: f of the CLIP_benchmark class vector; per-template: f of \
            every template embedding, normalised, averaged, normalised (needs "text_embeddings").
              k               units kept per row at inference (at most the trained k; no retraining).
              alpha           fixed:<a> the same alpha everywhere; table:<file> a JSON object \
            {"dataset": alpha} (e.g. the paper's table A6); validated:<grid> the grid alpha with the best \
            acc1 on held-out data: the validation manifest of the same dataset (val=<manifest> in the \
            spec, or --validation paired by dataset name), otherwise seeded k-fold on the evaluation set \
            (folds=<n>, default 5; fold f is scored with the alpha chosen on the other folds; seed = \
            --seed); oracle:<grid> the best alpha on the evaluation set itself, an upper bound that is \
            labelled oracle in every row and table. Ties go to the smallest alpha.
            Every enhanced row records the canonical variant string, the checkpoint's SHA-256, \
            architecture, trained k and hidden ratio, the alpha choice (per-fold alphas, grid accuracies), \
            and a paired comparison with the baseline on the same images: differences in acc1, acc5 and \
            mean_per_class_recall with paired-bootstrap intervals (same resamples), the exact McNemar \
            p-value on top-1 correctness and the flip counts; --per-class adds per-class recall deltas.
            """)

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp("Manifest file(s) (JSON), evaluated in order.", valueName: "manifest"))
    var data: [String] = []

    @Option(help: ArgumentHelp("Result file (JSON), written atomically.", valueName: "file.json"))
    var out: String

    @Option(help: "Bootstrap resamples for the acc1 interval (1000 to 1000000).")
    var bootstrap: Int = 1000

    @OptionGroup var seeding: SeedOption

    @Flag(help: "Also record the recall of every class.")
    var perClass = false

    @Option(
        help: ArgumentHelp(
            "error: refuse zero, subnormal-norm or non-finite embedding rows, class vectors and concept codes, "
                + "naming the first ones; count-wrong: count the images concerned as wrong at every k "
                + "(recorded per row as n_counted_wrong).",
            valueName: "error|count-wrong"))
    var degenerate: DegenerateRowPolicy = .error

    @OptionGroup var parallel: ThreadsOption
    @OptionGroup var progress: ProgressOption

    @Option(help: ArgumentHelp("Autoencoder checkpoint for --alignment.", valueName: "checkpoint"))
    var sae: String?

    @Option(help: "Trained k of a checkpoint that does not record it (official .pth; default 256).")
    var saeK: Int?

    @Option(help: ArgumentHelp("Alignment spec (repeatable); see the discussion above.", valueName: "spec"))
    var alignment: [String] = []

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "Validation manifest(s) for alpha=validated, paired with --data by dataset name.",
            valueName: "manifest"))
    var validation: [String] = []

    func validate() throws {
        if data.isEmpty { throw ValidationError("give at least one manifest with --data") }
        if bootstrap < EvalJob.minimumResamples || bootstrap > EvalJob.maximumResamples {
            throw ValidationError(
                "--bootstrap must be in \(EvalJob.minimumResamples)...\(EvalJob.maximumResamples), got \(bootstrap)")
        }
        if sae == nil && saeK != nil { throw ValidationError("--sae-k needs an autoencoder checkpoint (--sae)") }
        if alignment.isEmpty && !validation.isEmpty { throw ValidationError("--validation needs an --alignment spec") }
        if sae != nil && alignment.isEmpty { throw ValidationError("--sae needs at least one --alignment spec") }
    }

    func run() throws {
        let options = EvalJob.Options(
            manifests: data, bootstrapResamples: bootstrap, seed: seeding.seed, perClass: perClass,
            threads: parallel.threads, command: recordedCommandLine, tool: ToolIdentity.record(),
            progress: progress.enabled,
            alignment: sae == nil && alignment.isEmpty
                ? nil
                : AlignmentOptions(checkpoint: sae, checkpointK: saeK, specs: alignment, validation: validation),
            degenerate: degenerate)
        try reportingErrors(threads: parallel.threads) {
            try refuseOverwritingInputs(outputs: [out], inputs: data + validation + [sae])
            let doc = try EvalJob.run(options)
            try refuseOverwritingInputs(outputs: [out], inputs: doc.inputs.map(\.path))
            try doc.write(to: out)
            show(EvalJob.table(doc))
            if options.alignment != nil {
                show("")
                show(try ReportTable(documents: [(out, doc)]).render(.markdown), terminator: "")
            }
            Progress.note("wrote \(out)")
        }
    }
}

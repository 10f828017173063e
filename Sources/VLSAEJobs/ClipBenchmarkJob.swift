import Foundation
import VLSAECore
import VLSAEData
import VLSAEReport

/// `vlsae export-cb` and `vlsae import-cb`: result rows to and from CLIP_benchmark's result files
/// (`ClipBenchmarkResult`). Both return what they compute; the command writes it.
public enum ClipBenchmarkJob {
    /// One CLIP_benchmark result file per row of the document at `result`, named as CLIP_benchmark names its output
    /// (`{dataset}_{pretrained}_{model}_{language}_{task}.json`, its default `--output`, with "/" → "_"); a row other
    /// than a baseline adds `__` and its variant (characters outside `A-Za-z0-9._-` → "-"). Throws `VLSAEError.file`
    /// when the document cannot be read or two rows would share a name.
    public static func export(result: String) throws -> [(name: String, bytes: Data)] {
        let doc = try ResultDocument.read(from: result)
        var out: [(name: String, bytes: Data)] = []
        var seen: [String: Int] = [:]
        for (i, row) in doc.results.enumerated() {
            let variant = row.variant ?? row.method
            var name = [row.dataset, row.pretrained, row.model, row.language, ClipBenchmarkResult.task]
                .map { $0.replacingOccurrences(of: "/", with: "_") }.joined(separator: "_")
            if row.alignment != nil || variant != "cosine" || row.method != "cosine" {
                name += "__" + slug(row.method == variant ? variant : row.method + "_" + variant)
            }
            name = slug(name) + ".json"
            if let j = seen[name] {
                throw VLSAEError.file(result, "rows \(j) and \(i) would both be written to \(name)")
            }
            seen[name] = i
            let cb = ClipBenchmarkResult(
                dataset: row.dataset, model: row.model, pretrained: row.pretrained, language: row.language,
                acc1: row.metrics.acc1, acc5: row.metrics.acc5, meanPerClassRecall: row.metrics.meanPerClassRecall,
                method: row.method, variant: variant)
            out.append((name, cb.encoded()))
        }
        return out
    }

    static func slug(_ s: String) -> String {
        String(
            s.unicodeScalars.map { c -> Character in
                c.isASCII && (CharacterSet.alphanumerics.contains(c) || "._-".unicodeScalars.contains(c))
                    ? Character(c) : "-"
            })
    }

    /// A result document of the CLIP_benchmark results in `files`, one baseline row each, in the order given: method
    /// and variant "cosine" (or those `export-cb` recorded), metrics as read (a NaN acc5 becomes null and is listed in
    /// the row's `imported.nan_metrics`), no intervals and no input hashes; counts and list hashes only where the file
    /// dumped its class names and templates. The provenance's numeric mode is "clip_benchmark". A leading "wds/" of
    /// the dataset name is dropped, as CLIP_benchmark drops it in its output names. Throws `VLSAEError.file` for an
    /// unreadable file or two files with the same dataset, method and variant.
    public static func importResults(files: [String], command: [String], tool: ToolRecord) throws -> ResultDocument {
        guard !files.isEmpty else { throw VLSAEError.usage("no CLIP_benchmark result file given") }
        var rows: [ResultRow] = []
        var seen: [String: String] = [:]
        for file in files {
            let cb = try ClipBenchmarkResult.parse(try readFile(file), path: file)
            let dataset = cb.dataset.hasPrefix("wds/") ? String(cb.dataset.dropFirst(4)) : cb.dataset
            let method = cb.method ?? "cosine"
            let variant = cb.variant ?? method
            let key = "\(dataset) | \(method) | \(variant)"
            if let other = seen[key] { throw VLSAEError.file(file, "repeats the row \(key) of \(other)") }
            seen[key] = file
            rows.append(
                ResultRow(
                    dataset: dataset, model: cb.model, pretrained: cb.pretrained, language: cb.language,
                    metrics: MetricValues(acc1: cb.acc1, acc5: cb.acc5, meanPerClassRecall: cb.meanPerClassRecall),
                    method: method, variant: variant, intervals: [:], nImages: nil,
                    nClasses: cb.classnames?.count, nTemplates: cb.templates?.count, templateLevel: nil,
                    classnamesSha256: cb.classnames.map(Catalog.listSHA256),
                    templatesSha256: cb.templates.map(Catalog.listSHA256),
                    imported: ImportRecord(format: RunProvenance.clipBenchmark, path: file, nanMetrics: cb.nanMetrics)))
        }
        return ResultDocument(
            tool: tool, seeds: [:], inputs: [], results: rows,
            provenance: RunProvenance(
                command: command, numerics: RunProvenance.clipBenchmark, kernelPath: nil, threads: nil))
    }
}

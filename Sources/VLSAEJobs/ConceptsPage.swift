import Foundation
import VLSAEEval

/// `index.html` of `vlsae concepts`: one static page, no external resources (it works offline,
/// opened from the folder), a table of the listed concepts with their montages and top captions,
/// sortable by frequency and agreement with a few lines of inline JavaScript. Every text that comes
/// from an input (captions, paths, the checkpoint name) is HTML-escaped. The markup is also
/// well-formed XML, so tools (and the tests) can parse it back.
enum ConceptsPage {
    /// The sort keys the page offers: `data-*` attribute of each row and the column header's label.
    static let sortKeys: [(key: String, label: String)] = [
        ("index", "concept"), ("image-frequency", "image frequency"), ("text-frequency", "text frequency"),
        ("agreement", "agreement"),
    ]

    /// The character references `escape(_:)` writes.
    static let entities: [Unicode.Scalar: String] = [
        "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;",
    ]

    /// `&`, `<`, `>`, `"` and `'` as character references, so `text` is plain text in element content
    /// and in quoted attribute values alike; control characters other than tab and newline, which
    /// XML 1.0 does not allow, as U+FFFD.
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            if let entity = entities[c] {
                out += entity
            } else if c.value < 0x20 && c != "\t" && c != "\n" {
                out += "\u{FFFD}"
            } else {
                out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func number(_ v: Double?, digits: Int = 4) -> String {
        guard let v else { return "–" }
        return String(format: "%.\(digits)f", v)
    }

    /// The whole page.
    static func html(_ doc: ConceptsDocument) -> String {
        let checkpointName =
            doc.inputs.first { $0.role == "sae_checkpoint" }.map { ($0.path as NSString).lastPathComponent } ?? ""
        var s = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8"/>
            <title>Concepts of \(escape(checkpointName))</title>
            <style>
            body { font-family: sans-serif; margin: 1.5em; color: #222; }
            table { border-collapse: collapse; }
            th, td { border-bottom: 1px solid #ddd; padding: 4px 8px; vertical-align: top; text-align: left; }
            th button { font: inherit; font-weight: bold; border: none; background: none; cursor: pointer; padding: 0; }
            th button.active::after { content: " \\25BC"; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; }
            ol { margin: 0; padding-left: 1.5em; }
            img.montage { max-width: 540px; }
            </style>
            </head>
            <body>
            <h1>Concepts of \(escape(checkpointName))</h1>

            """
        let c = doc.checkpoint
        s += "<p id=\"summary\">\(doc.nImages) images, \(doc.nTexts) texts; \(c.arch.rawValue), d \(c.inputDim), "
        s += "\(c.hidden) concepts, k \(c.k) (trained \(c.trainedK)); top \(doc.settings.top) per concept; "
        s += doc.settings.paired ? "paired inputs." : "unpaired inputs."
        if let m = doc.montages {
            s +=
                " Montages: \(m.drawn) drawn, \(m.placeholders) placeholder tiles (\(m.missingImages.count) missing and "
            s += "\(m.unreadableImages.count) unreadable images)."
        }
        s += "</p>\n"
        s += figuresTable(doc)
        s += "<table id=\"concepts\">\n<thead><tr>"
        for (key, label) in sortKeys {
            s += "<th><button type=\"button\" data-sort=\"\(key)\">\(label)</button></th>"
        }
        s += "<th>top images</th><th>top texts</th></tr></thead>\n<tbody>\n"
        for e in doc.concepts { s += row(e) }
        s += "</tbody>\n</table>\n"
        s += script
        s += "</body>\n</html>\n"
        return s
    }

    static func figuresTable(_ doc: ConceptsDocument) -> String {
        var s = "<table id=\"figures\">\n<thead><tr><th>dictionary</th><th>dead</th><th>dense</th>"
        s += "<th>image similarity</th><th>text similarity</th><th>image–text similarity</th></tr></thead>\n<tbody>\n"
        for (name, f) in [("trained", doc.figures.trained), ("random (seed \(doc.settings.seed))", doc.figures.random)]
        {
            s += "<tr><td>\(name)</td><td class=\"num\">\(number(f.deadFraction, digits: 3))</td>"
            s += "<td class=\"num\">\(number(f.denseFraction, digits: 3))</td>"
            s +=
                "<td class=\"num\">\(number(f.imageSimilarity.mean))</td><td class=\"num\">\(number(f.textSimilarity.mean))</td>"
            s += "<td class=\"num\">\(number(f.crossSimilarity.mean))</td></tr>\n"
        }
        s += "</tbody>\n</table>\n"
        s += "<p>Dead: active in no image and no text. Dense: active in more than "
        s += "\(number(doc.settings.denseThreshold * 100, digits: 0)) % of the images or of the texts. "
        s += "Similarities: mean cosine among a concept's top images, among its top texts, and between "
        s += "the means of the two, averaged over concepts.</p>\n"
        return s
    }

    static func row(_ e: ConceptEntry) -> String {
        // Agreement sorts as -1 when undefined (unpaired inputs), below every defined value.
        var s = "<tr class=\"concept\" id=\"concept-\(e.index)\" data-index=\"\(e.index)\" "
        s += "data-image-frequency=\"\(e.imageFrequency)\" data-text-frequency=\"\(e.textFrequency)\" "
        s += "data-agreement=\"\(e.agreement ?? -1)\">"
        s += "<td class=\"num\">\(e.index)</td><td class=\"num\">\(number(e.imageFrequency))</td>"
        s += "<td class=\"num\">\(number(e.textFrequency))</td>"
        s += "<td class=\"num\">\(e.agreement.map { "\($0) / \(e.topImages.count)" } ?? "–")</td><td>"
        if let montage = e.montage {
            s += "<img class=\"montage\" src=\"\(escape(montage))\" alt=\"top images of concept \(e.index)\"/>"
        } else if e.topImages.isEmpty {
            s += "none"
        } else {
            s += "<ol>"
            for t in e.topImages {
                s += "<li>#\(t.index) \(number(Double(t.activation)))\(t.path.map { " " + escape($0) } ?? "")</li>"
            }
            s += "</ol>"
        }
        s += "</td><td>"
        if e.topTexts.isEmpty {
            s += "none"
        } else {
            s += "<ol class=\"texts\">"
            for t in e.topTexts {
                s +=
                    "<li>\(t.caption.map { escape($0) } ?? "#\(t.index)") <small>\(number(Double(t.activation)))</small></li>"
            }
            s += "</ol>"
        }
        s += "</td></tr>\n"
        return s
    }

    /// Sorting: a header button sorts the rows by its key, descending (the concept index ascending),
    /// ties by concept index; `#sort=<key>` in the address sorts on load. Written without `<` and `&`
    /// so the page stays well-formed XML.
    static let script = """
        <script>
        (function () {
          var body = document.querySelector("#concepts tbody");
          function value(row, key) { return parseFloat(row.getAttribute("data-" + key)); }
          function sortBy(key) {
            var rows = Array.prototype.slice.call(body.querySelectorAll("tr.concept"));
            var sign = key === "index" ? -1 : 1;
            rows.sort(function (a, b) {
              return sign * (value(b, key) - value(a, key)) || (value(a, "index") - value(b, "index"));
            });
            rows.forEach(function (row) { body.appendChild(row); });
            document.querySelectorAll("th button").forEach(function (button) {
              button.classList.toggle("active", button.getAttribute("data-sort") === key);
            });
            document.body.setAttribute("data-sorted-by", key);
          }
          document.querySelectorAll("th button").forEach(function (button) {
            button.addEventListener("click", function () { sortBy(button.getAttribute("data-sort")); });
          });
          var match = /sort=([a-z-]+)/.exec(window.location.hash);
          sortBy(match ? match[1] : "index");
        })();
        </script>

        """
}

import ArgumentParser
import Foundation
import VLSAECore
import VLSAEFormats

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List the arrays in a .npy, .npz, .safetensors or torch file, with the file's SHA-256.",
        discussion: """
            Prints one line per array: its name (what follows ':' in a tensor address; empty for a bare \
            .npy), shape and element type. Use it to find the address to put in a manifest.
            """)

    @Argument(help: ArgumentHelp("The file to list.", valueName: "file"))
    var file: String

    func run() throws {
        try reportingErrors {
            let info = try TensorFile.inspect(path: file)
            show("\(file)")
            show("sha256 \(info.sha256)")
            let names = info.arrays.map { $0.name.isEmpty ? "(unnamed)" : $0.name }
            let width = min(48, (names.map(\.count).max() ?? 0) + 2)
            for (name, a) in zip(names, info.arrays) {
                let shape = "(" + a.shape.map(String.init).joined(separator: ", ") + ")"
                let padded = name.count >= width ? name + " " : name + String(repeating: " ", count: width - name.count)
                show("  \(padded)\(shape)  \(a.dtype.rawValue)")
            }
        }
    }
}

import ArgumentParser
import Foundation
import VLSAECore
import VLSAEJobs
import VLSAEModel

struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode embeddings with a trained autoencoder; write dense activations or reconstructions as .npy.",
        discussion: """
            Writes N × h activations (zeros for inactive units), or with --reconstruct the N × d output of \
            that modality's decoder. --k keeps fewer active units than the model was trained with. The \
            checkpoint may be one written by `vlsae train` or an official .pth state dict (then k is 256 \
            unless --k is given).
            """)

    @Option(help: ArgumentHelp("Checkpoint (.safetensors or official .pth).", valueName: "ckpt")) var sae: String
    @Option(help: ArgumentHelp("Embeddings to encode (tensor address, N × d).", valueName: "source")) var input: String
    @Option(help: ArgumentHelp("Output .npy file.", valueName: "z.npy")) var out: String
    @Option(help: ArgumentHelp("Write the reconstruction through the image or text decoder.", valueName: "image|text"))
    var reconstruct: Modality?
    @Option(
        help: ArgumentHelp(
            "Encoder to use for SAE_D (default: the --reconstruct modality, else image).", valueName: "image|text"))
    var modality: Modality?
    @Option(help: ArgumentHelp("Active units per row, at most the trained k.", valueName: "K")) var k: Int?
    @OptionGroup var parallel: ThreadsOption

    func run() throws {
        try reportingErrors(threads: parallel.threads) {
            try refuseOverwritingInputs(outputs: [out], inputs: [sae, addressedFile(input)])
            let r = try EncodeJob.run(
                EncodeJob.Options(
                    checkpoint: sae, input: input, reconstruct: reconstruct,
                    modality: modality, k: k, threads: parallel.threads))
            try r.write(to: out)
            Progress.note(
                String(format: "wrote %@ (%d × %d), mean active units %.2f", out, r.rows, r.cols, r.meanActive))
        }
    }
}

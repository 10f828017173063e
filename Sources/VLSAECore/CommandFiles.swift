import Foundation

/// The files one command reads and the files it writes, in one place, so that no command can
/// write over one of its own inputs: `--out` naming the manifest, the embeddings, the checkpoint
/// or a config would otherwise replace it with the result.
///
/// Two names are the same file when they resolve to the same path (symbolic links and `..`
/// followed) or, for files that exist, when they have the same device and inode (hard links).
@MemberwiseInit
public struct CommandFiles: Sendable, Equatable {
    /// Files the command reads (file paths, not tensor addresses).
    public var inputs: [String]
    /// Files the command writes.
    public var outputs: [String]

    /// Throws a usage error naming both paths when an output is the same file as an input or as
    /// another output; does nothing otherwise (files that do not exist yet are compared by path).
    public func checkOutputsAreNotInputs() throws {
        let ins = inputs.map { (path: $0, identity: Identity(of: $0)) }
        var seenOutputs: [(path: String, identity: Identity)] = []
        for out in outputs {
            let identity = Identity(of: out)
            if let input = ins.first(where: { $0.identity.sameFile(as: identity) }) {
                throw VLSAEError.usage(
                    "the output \(out) is the same file as the input \(input.path); choose another output path")
            }
            if let other = seenOutputs.first(where: { $0.identity.sameFile(as: identity) }) {
                throw VLSAEError.usage("the outputs \(other.path) and \(out) are the same file")
            }
            seenOutputs.append((out, identity))
        }
    }

    /// What makes two names one file: the resolved path, and device and inode when it exists.
    struct Identity {
        let resolvedPath: String
        let deviceAndInode: (UInt64, UInt64)?

        init(of path: String) {
            resolvedPath = Identity.resolve(path)
            var st = stat()
            if stat(path, &st) == 0 {
                deviceAndInode = (UInt64(st.st_dev), UInt64(st.st_ino))
            } else {
                deviceAndInode = nil
            }
        }

        func sameFile(as other: Identity) -> Bool {
            if let a = deviceAndInode, let b = other.deviceAndInode { return a == b }
            return resolvedPath == other.resolvedPath
        }

        /// The absolute path with every symbolic link resolved; for a file that does not exist yet,
        /// its folder's resolved path and its name.
        static func resolve(_ path: String) -> String {
            let absolute =
                path.hasPrefix("/")
                ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
            if let real = realpath(absolute, nil) {
                defer { free(real) }
                return String(cString: real)
            }
            let folder = (absolute as NSString).deletingLastPathComponent
            let name = (absolute as NSString).lastPathComponent
            return (resolve(folder: folder) as NSString).appendingPathComponent(name)
        }

        private static func resolve(folder: String) -> String {
            if let real = realpath(folder, nil) {
                defer { free(real) }
                return String(cString: real)
            }
            return (folder as NSString).standardizingPath
        }
    }
}

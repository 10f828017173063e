import Foundation

/// Reading an input file whole, safely against hostile or changing files: only regular files are
/// read (a FIFO, socket or device is refused before anything blocks on it), the bytes are copied
/// into memory rather than mapped (a file truncated while mapped kills the reader with SIGBUS), and
/// a file that shrinks or grows while it is read is an error instead of a silently different input.
public enum InputFile {
    /// The largest file read, 64 GiB: more than any embedding dump or checkpoint this tool handles
    /// fits in memory anyway, and a size beyond it is refused before allocating.
    public static let maxSize = 64 << 30

    /// The bytes of the regular file at `path`; throws `VLSAEError.file` naming `path` and the problem (missing, a
    /// folder or another non-regular file, unreadable, larger than `limit`, or changed while being read).
    public static func read(_ path: String, limit: Int = maxSize) throws -> Data {
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw VLSAEError.file(path, openFailure(errno)) }
        defer { close(fd) }
        let size = try regularFileSize(fd, path: path)
        guard size <= limit else {
            throw VLSAEError.file(path, "is \(size) bytes, more than the \(limit)-byte limit for an input file")
        }
        // Back to blocking reads now that the file is known to be regular.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        var data = Data(count: size)
        let got = try fill(&data, from: fd, path: path)
        guard got == size else {
            throw VLSAEError.file(path, "changed while being read: it shrank from \(size) to \(got) bytes")
        }
        var probe: UInt8 = 0
        guard Foundation.read(fd, &probe, 1) == 0 else {
            throw VLSAEError.file(path, "changed while being read: it grew beyond its \(size) bytes")
        }
        return data
    }

    /// At most the first `count` bytes of the regular file at `path` (fewer when the file is shorter), for
    /// formats whose header says what a caller needs (a `.npy` shape) without reading the data behind it.
    public static func readPrefix(_ path: String, count: Int) throws -> Data {
        let fd = try openRegular(path)
        defer { close(fd) }
        var data = Data(count: max(0, count))
        let got = try fill(&data, from: fd, path: path)
        return data.prefix(got)
    }

    /// Reads from `fd` until `data` is full or the file ends (retrying interrupted reads, at most
    /// 1 GiB per call); returns the bytes read.
    private static func fill(_ data: inout Data, from fd: Int32, path: String) throws -> Int {
        try data.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) -> Int in
            var done = 0
            while done < raw.count {
                let n = Foundation.read(fd, raw.baseAddress! + done, min(raw.count - done, 1 << 30))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw VLSAEError.file(path, "cannot read: \(String(cString: strerror(errno)))")
                }
                if n == 0 { break }
                done += n
            }
            return done
        }
    }

    /// Refuses anything but a regular file (by what the open descriptor is, so a path swapped after a check cannot
    /// slip through) and returns its size.
    static func regularFileSize(_ fd: Int32, path: String) throws -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw VLSAEError.file(path, "cannot read: \(String(cString: strerror(errno)))")
        }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG else { throw VLSAEError.file(path, notRegular(kind)) }
        return Int(info.st_size)
    }

    /// Opens `path` for reading as `read(_:limit:)` does (regular files only, never blocking on a FIFO); the caller
    /// closes the descriptor. For files that are streamed (hashed) rather than loaded.
    public static func openRegular(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw VLSAEError.file(path, openFailure(errno)) }
        do { _ = try regularFileSize(fd, path: path) } catch {
            close(fd)
            throw error
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    private static func notRegular(_ kind: mode_t) -> String {
        switch kind {
        case S_IFDIR: return "is a folder, not a file"
        case S_IFIFO: return "is not a regular file (a FIFO / named pipe); give a file on disk"
        case S_IFSOCK: return "is not a regular file (a socket); give a file on disk"
        case S_IFCHR: return "is not a regular file (a character device); give a file on disk"
        case S_IFBLK: return "is not a regular file (a block device); give a file on disk"
        default: return "is not a regular file; give a file on disk"
        }
    }

    private static func openFailure(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case ENOTDIR: return "no such file (a folder on its path is a file)"
        case EACCES: return "cannot read: permission denied"
        default: return "cannot open for reading: \(String(cString: strerror(code)))"
        }
    }
}

import Foundation

/// Limits on `--threads` and the check that worker threads can be created at all.
///
/// The worker pool (libdispatch, behind `DispatchQueue.concurrentPerform`) retries a failed
/// `pthread_create` forever, so under a memory limit (`ulimit -v`) or a process limit a run would
/// hang silently. `ensureThreads(_:)` creates the threads a run will need first, each with the
/// default stack, holds them all at once and joins them: when that fails, the run stops with an
/// error naming the limit instead.
public enum Parallelism {
    /// The most `--threads` any command accepts: 4 × the cores, and at least 64 (results do not
    /// depend on the thread count, so more threads than that only cost memory).
    public static var maximumThreads: Int { max(64, 4 * ProcessInfo.processInfo.activeProcessorCount) }

    /// Throws a usage error unless 1 ≤ `threads` ≤ `maximumThreads`.
    public static func checkThreads(_ threads: Int) throws {
        guard threads >= 1 else { throw VLSAEError.usage("--threads must be at least 1, got \(threads)") }
        guard threads <= maximumThreads else {
            throw VLSAEError.usage(
                "--threads must be at most \(maximumThreads) (4 × the \(ProcessInfo.processInfo.activeProcessorCount) "
                    + "cores, at least 64), got \(threads)")
        }
    }

    /// Threads a process needs beside its workers: Foundation's subprocess helper, libdispatch's
    /// manager thread and a pipe reader (measured: `vlsae eval` under `prlimit --as`).
    public static let helperThreads = 3

    /// Creates the threads a run with `threads` workers needs (`helperThreads` plus the workers,
    /// at most the cores: the pool's width), holds them together and joins them; throws
    /// `VLSAEError.resource` naming the failure otherwise.
    public static func ensureThreads(_ threads: Int) throws {
        let wanted = helperThreads + max(1, min(threads, ProcessInfo.processInfo.activeProcessorCount))
        var started: [pthread_t] = []
        var failure: Int32 = 0
        for _ in 0..<wanted {
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { _ in nil }, nil)
            if rc != 0 {
                failure = rc
                break
            }
            started.append(thread)
        }
        for thread in started { pthread_join(thread, nil) }
        guard failure == 0 else {
            var limit = rlimit()
            var stack = rlimit()
            getrlimit(Int32(RLIMIT_AS.rawValue), &limit)
            getrlimit(Int32(RLIMIT_STACK.rawValue), &stack)
            func show(_ v: rlim_t) -> String { v == rlim_t.max ? "unlimited" : "\(v) bytes" }
            throw VLSAEError.resource(
                "cannot start worker thread \(started.count + 1) of \(wanted): \(String(cString: strerror(failure))) "
                    + "(address-space limit \(show(limit.rlim_cur)), stack size \(show(stack.rlim_cur)) per thread); "
                    + "raise the memory or process limit, or lower the stack size (ulimit -s)")
        }
    }
}

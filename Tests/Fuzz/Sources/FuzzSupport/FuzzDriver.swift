import CFuzzDriver
import Foundation

/// Runs libFuzzer on one target. Each fuzz target is an executable whose `@main` hands one of `FuzzTargets`'
/// functions here: SwiftPM gives executables their own entry point, so libFuzzer's `main` is not used and
/// `LLVMFuzzerRunDriver` is called instead.
public enum FuzzDriver {
    /// The function under test; libFuzzer takes a C function pointer, which cannot carry it.
    nonisolated(unsafe) private static var target: (Data) -> Void = { _ in }

    /// Starts libFuzzer with this process's arguments and `target` as the function under test; exits with
    /// libFuzzer's status. `target` gets each input's bytes and must never crash, whatever they are.
    public static func run(_ target: @escaping (Data) -> Void) -> Never {
        Self.target = target
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(
            LLVMFuzzerRunDriver(&argc, &argv) { bytes, count in
                FuzzDriver.target(bytes.map { Data(bytes: $0, count: count) } ?? Data())
                return 0
            })
    }
}

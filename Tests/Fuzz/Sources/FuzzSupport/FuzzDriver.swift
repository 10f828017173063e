import CFuzzDriver
import Foundation

/// Runs libFuzzer on one target. Each fuzz target is an executable with its own `@main` that hands its
/// callback here: SwiftPM gives executables their own entry point, so libFuzzer's `main` is not used.
public enum FuzzDriver {
    /// Starts libFuzzer with this process's arguments and `body` as the function under test; exits with
    /// libFuzzer's status. `body` gets the input bytes and returns 0; it must never crash, whatever the bytes.
    public static func run(_ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, body))
    }

    /// The input as `Data` (empty for a null pointer).
    public static func data(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Data {
        guard let bytes, count > 0 else { return Data() }
        return Data(bytes: bytes, count: count)
    }
}

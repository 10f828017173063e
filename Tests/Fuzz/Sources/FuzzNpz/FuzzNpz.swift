import FuzzSupport

/// libFuzzer on `FuzzTargets.npz`.
@main enum FuzzNpz { static func main() { FuzzDriver.run(FuzzTargets.npz) } }

import FuzzSupport

/// libFuzzer on `FuzzTargets.npy`.
@main enum FuzzNpy { static func main() { FuzzDriver.run(FuzzTargets.npy) } }

import FuzzSupport

/// libFuzzer on `FuzzTargets.sweepConfig`.
@main enum FuzzSweepConfig { static func main() { FuzzDriver.run(FuzzTargets.sweepConfig) } }

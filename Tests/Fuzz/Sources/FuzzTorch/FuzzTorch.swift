import FuzzSupport

/// libFuzzer on `FuzzTargets.torch`.
@main enum FuzzTorch { static func main() { FuzzDriver.run(FuzzTargets.torch) } }

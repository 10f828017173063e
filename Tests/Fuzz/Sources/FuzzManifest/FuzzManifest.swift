import FuzzSupport

/// libFuzzer on `FuzzTargets.manifest`.
@main enum FuzzManifest { static func main() { FuzzDriver.run(FuzzTargets.manifest) } }

import FuzzSupport

/// libFuzzer on `FuzzTargets.safetensors`.
@main enum FuzzSafetensors { static func main() { FuzzDriver.run(FuzzTargets.safetensors) } }

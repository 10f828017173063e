/// How a manifest's `classifier` matrix is laid out. CLIP_benchmark's `--save_clf` writes d × C (one column per class,
/// `dim-first`); `vlsae` scores C × d (`class-first`). A manifest may state it (`classifier_layout`), and must when
/// d == C; otherwise it follows from the shape and the result records which was used.
public enum ClassifierLayout: String, Codable, Equatable, Sendable, CaseIterable {
    /// C × d: one row per class.
    case classFirst = "class-first"
    /// d × C: one column per class, as CLIP_benchmark's `--save_clf` saves it.
    case dimFirst = "dim-first"
}

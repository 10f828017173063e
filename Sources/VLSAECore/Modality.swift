/// The two sides of a vision-language pair. Its raw values are the spellings used everywhere a
/// modality is named: command-line values (`vlsae encode --reconstruct image|text`), JSON and
/// file names.
public enum Modality: String, Codable, Sendable, CaseIterable {
    case image, text
}

import CJPEG
import Foundation

/// The image formats `DecodedImage.decode(imageBytes:)` recognises by their first bytes.
public enum ImageFormat: String, Sendable {
    /// JPEG/JFIF (starts FF D8 FF).
    case jpeg
    /// PNG (starts 89 50 4E 47 0D 0A 1A 0A).
    case png

    /// The format the bytes start with, nil for anything else.
    public static func sniff(_ bytes: [UInt8]) -> ImageFormat? {
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        return nil
    }
}

extension DecodedImage {
    /// Decodes a JPEG with libjpeg to 8-bit RGBA (alpha 255). With `minSide` > 0, libjpeg scales
    /// the image down while decoding by the largest of 1/2, 1/4 and 1/8 that keeps both sides at
    /// least `minSide`. Throws `PlotError.decode` for bytes libjpeg cannot read, for a file it
    /// could only read with warnings (truncated or damaged data, which it would fill with grey) and
    /// for an image larger than `maxPixels`.
    public static func decode(jpegBytes bytes: [UInt8], minSide: Int = 0) throws -> DecodedImage {
        guard !bytes.isEmpty else { throw PlotError.decode("no bytes, not a JPEG") }
        var out: UnsafeMutablePointer<UInt8>? = nil
        var width: Int32 = 0
        var height: Int32 = 0
        var warnings = 0
        var message = [CChar](repeating: 0, count: Int(JMSG_LENGTH_MAX))
        let ok = bytes.withUnsafeBufferPointer { b in
            vlsae_jpeg_decode(
                b.baseAddress, UInt(b.count), Int32(clamping: minSide), UInt(DecodedImage.maxPixels), &out, &width,
                &height, &warnings, &message)
        }
        defer { free(out) }
        guard ok != 0, let out else {
            throw PlotError.decode(
                String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        guard warnings == 0 else {
            throw PlotError.decode("damaged JPEG data (\(warnings) libjpeg warning\(warnings == 1 ? "" : "s"))")
        }
        let count = Int(width) * Int(height)
        var rgba = [UInt8](repeating: 255, count: count * 4)
        for i in 0..<count {
            rgba[4 * i] = out[3 * i]
            rgba[4 * i + 1] = out[3 * i + 1]
            rgba[4 * i + 2] = out[3 * i + 2]
        }
        return DecodedImage(width: Int(width), height: Int(height), rgba: rgba)
    }

    /// Decodes a JPEG or PNG, recognised by its first bytes; `minSide` as in `decode(jpegBytes:minSide:)`
    /// (PNGs are decoded at full size). Throws `PlotError.decode` for any other bytes.
    public static func decode(imageBytes bytes: [UInt8], minSide: Int = 0) throws -> DecodedImage {
        switch ImageFormat.sniff(bytes) {
        case .jpeg: return try decode(jpegBytes: bytes, minSide: minSide)
        case .png: return try decode(pngBytes: bytes)
        case nil: throw PlotError.decode("neither a JPEG nor a PNG")
        }
    }
}

extension Canvas {
    /// The canvas as a baseline JPEG of `quality` (1–100) with libjpeg's exact integer DCT and no
    /// metadata beyond the JFIF header.
    public func jpegData(quality: Int = 90) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        var message = [CChar](repeating: 0, count: Int(JMSG_LENGTH_MAX))
        let ok = pixels.withUnsafeBufferPointer { p in
            vlsae_jpeg_encode(
                p.baseAddress, Int32(width), Int32(height), Int32(min(max(quality, 1), 100)), &out, &size, &message)
        }
        defer { free(out) }
        guard ok != 0, let out else {
            throw PlotError.encode(
                String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return Array(UnsafeBufferPointer(start: out, count: Int(size)))
    }
}

import CPNG
import Foundation
import VLSAECore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors from encoding, decoding or writing figures. (VLSAEPlot keeps its own error type: callers that
/// want a `VLSAEError` map `.file(path, message)` onto it one to one.)
public enum PlotError: Error, CustomStringConvertible, Equatable {
    /// libpng refused to encode the canvas.
    case encode(String)
    /// The bytes are not a PNG that libpng can read.
    case decode(String)
    /// A problem writing the named file.
    case file(String, String)

    /// Readable text: "PNG encoding failed: …", "PNG decoding failed: …" or "path: message".
    public var description: String {
        switch self {
        case .encode(let message): return "PNG encoding failed: \(message)"
        case .decode(let message): return "PNG decoding failed: \(message)"
        case .file(let path, let message): return "\(path): \(message)"
        }
    }
}

// libpng's classic API reports errors by longjmp-ing out of the error callback, which Swift
// cannot set up (no setjmp) and must not be unwound through. The "simplified" png_image API does
// its setjmp inside libpng and reports failure as a return value plus `image.message`, so that
// is what both directions use.

private let formatRGB = UInt32(PNG_FORMAT_FLAG_COLOR)
private let formatRGBA = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)

private func message(of image: png_image) -> String {
    var text = image.message
    let s = withUnsafeBytes(of: &text) { raw -> String in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
    return s.isEmpty ? "unknown libpng error" : s
}

extension Canvas {
    /// The canvas as an 8-bit RGB PNG. Output depends only on the pixels (no timestamps or
    /// other metadata), so the same drawing always gives the same bytes.
    public func pngData() throws -> [UInt8] {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = formatRGB
        let stride = Int32(width * 3)

        return try pixels.withUnsafeBufferPointer { buffer -> [UInt8] in
            // First call with no output buffer asks libpng for the encoded size.
            var size = 0
            guard png_image_write_to_memory(&image, nil, &size, 0, buffer.baseAddress, stride, nil) != 0,
                size > 0
            else {
                let m = message(of: image)
                png_image_free(&image)
                throw PlotError.encode(m)
            }
            var out = [UInt8](repeating: 0, count: size)
            let ok = out.withUnsafeMutableBytes { raw in
                png_image_write_to_memory(&image, raw.baseAddress, &size, 0, buffer.baseAddress, stride, nil)
            }
            guard ok != 0 else {
                let m = message(of: image)
                png_image_free(&image)
                throw PlotError.encode(m)
            }
            png_image_free(&image)
            return Array(out.prefix(size))
        }
    }

    /// Writes the PNG atomically: to a temporary file beside `path`, then renamed over it, so a
    /// reader never sees a half-written figure.
    public func writePNG(to path: String) throws {
        let bytes = try pngData()
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
            isDirectory.boolValue
        else {
            throw PlotError.file(path, "directory \(directory.path) does not exist")
        }
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try Data(bytes).write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw PlotError.file(path, "cannot write: \(error.localizedDescription)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw PlotError.file(path, "cannot rename temporary file into place: \(reason)")
        }
    }
}

/// A PNG decoded to 8-bit RGBA (used by tests and by anything that checks written figures).
@MemberwiseInit
public struct DecodedImage: Equatable, Sendable {
    /// Pixels per row (at least 1 in a decoded image).
    public let width: Int
    /// Rows (at least 1 in a decoded image, with `width` × `height` ≤ `maxPixels`).
    public let height: Int
    /// Row-major RGBA quadruples, `width * height * 4` bytes.
    public let rgba: [UInt8]

    /// Largest image accepted, so a hostile header cannot make us allocate gigabytes.
    public static let maxPixels = 64 * 1024 * 1024

    /// Decodes any PNG libpng reads (grey, palette, 16-bit and alpha converted) to 8-bit RGBA. Throws
    /// `PlotError.decode` for bytes that are not a PNG or an image larger than `maxPixels`.
    public static func decode(pngBytes bytes: [UInt8]) throws -> DecodedImage {
        guard bytes.count >= 8 else { throw PlotError.decode("only \(bytes.count) bytes, not a PNG") }
        return try bytes.withUnsafeBytes { raw -> DecodedImage in
            var image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            // libpng keeps reading from `raw` until finish_read, so both calls stay in this closure.
            guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
                let m = message(of: image)
                png_image_free(&image)
                throw PlotError.decode(m)
            }
            let width = Int(image.width)
            let height = Int(image.height)
            guard width > 0, height > 0, width <= DecodedImage.maxPixels / height else {
                png_image_free(&image)
                throw PlotError.decode("image size \(width)x\(height) is out of range")
            }
            image.format = formatRGBA
            var rgba = [UInt8](repeating: 0, count: width * height * 4)
            let ok = rgba.withUnsafeMutableBytes { out in
                png_image_finish_read(&image, nil, out.baseAddress, Int32(width * 4), nil)
            }
            guard ok != 0 else {
                let m = message(of: image)
                png_image_free(&image)
                throw PlotError.decode(m)
            }
            png_image_free(&image)
            return DecodedImage(width: width, height: height, rgba: rgba)
        }
    }

    /// (r, g, b, a) at a pixel, nil outside the image.
    public func pixel(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8)? {
        guard x >= 0, x < width, y >= 0, y < height else { return nil }
        let i = (y * width + x) * 4
        return (rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3])
    }
}

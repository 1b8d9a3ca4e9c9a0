import CLibPNG
import Foundation
import Tensors

/// Why a PNG could not be written or read.
public enum PNGError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// libpng refused to encode or decode (its own message).
    case encoding(String)
    case decoding(String, path: String)
    /// The file or its folder cannot be created or written to.
    case unwritable(String, problem: String)
    case unreadable(String, problem: String)

    public var description: String {
        switch self {
        case .encoding(let message):
            return "cannot encode the PNG: \(message)"
        case .decoding(let message, let path):
            return "cannot decode \(path) as a PNG: \(message)"
        case .unwritable(let path, let problem):
            return "cannot write \(path): \(problem); set \(UserSetting.output) to another place"
        case .unreadable(let path, let problem):
            return "cannot read \(path): \(problem)"
        }
    }

    public var errorDescription: String? { description }
}

/// libpng's `png_image.message`, a fixed 64-byte C string.
private func message(of image: png_image) -> String {
    withUnsafeBytes(of: image.message) { raw in
        let bytes = raw.prefix { $0 != 0 }
        let text = String(decoding: bytes, as: UTF8.self)
        return text.isEmpty ? "libpng gave no reason" : text
    }
}

/// `PNG_FORMAT_RGBA` (a macro Swift does not import): colour plus alpha, 8 bits a channel.
private let rgbaFormat = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)

/// Encodes canvases as 8-bit RGBA PNG through libpng's simplified API (no setjmp: libpng
/// reports failure as a return value plus a message in the `png_image`).
public enum PNGWriter {
    /// The PNG file's bytes.
    public static func encode(_ canvas: Canvas) throws -> Data { try encode(canvas, bufferBytes: nil) }

    /// `bufferBytes`: the first buffer's size (tests make it too small to try the second attempt).
    static func encode(_ canvas: Canvas, bufferBytes: Int?) throws -> Data {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(canvas.width)
        image.height = UInt32(canvas.height)
        image.format = rgbaFormat
        let stride = Int32(canvas.width * 4)
        return try canvas.pixels.withUnsafeBytes { pixels in
            // One pass into a buffer big enough for any outcome: the raw rows (a filter byte
            // each) plus zlib's and the chunks' overhead. Asking libpng for the size first
            // (memory nil) would compress every image twice, and compression is most of the time
            // `lantern export` takes.
            let raw = canvas.height * (1 + canvas.width * 4)
            var size = bufferBytes ?? raw + raw / 1000 + 64 * 1024
            var data = Data(count: size)
            var ok = data.withUnsafeMutableBytes { out in
                png_image_write_to_memory(&image, out.baseAddress, &size, 0, pixels.baseAddress, stride, nil)
            }
            if ok == 0, size > data.count {
                // Too small after all: libpng said how many bytes it needs.
                png_image_free(&image)
                data = Data(count: size)
                ok = data.withUnsafeMutableBytes { out in
                    png_image_write_to_memory(&image, out.baseAddress, &size, 0, pixels.baseAddress, stride, nil)
                }
            }
            defer { png_image_free(&image) }
            guard ok != 0 else { throw PNGError.encoding(message(of: image)) }
            return data.prefix(size)
        }
    }

    /// Writes `canvas` to `url` whole or not at all (`AtomicFile`), creating the folder when missing.
    public static func write(_ canvas: Canvas, to url: URL) throws {
        let data = try encode(canvas)
        do { try AtomicFile.write(data, to: url) } catch {
            throw PNGError.unwritable(error.path, problem: error.reason)
        }
    }
}

/// Decodes PNG files into RGBA8 canvases (used by tests to look at what was written).
public enum PNGReader {
    public static func read(_ url: URL) throws -> Canvas {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw PNGError.unreadable(url.path, problem: "there is no such file")
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&image, url.path) != 0 else {
            defer { png_image_free(&image) }
            throw PNGError.decoding(message(of: image), path: url.path)
        }
        image.format = rgbaFormat
        let width = Int(image.width), height = Int(image.height)
        var pixels = [UInt8](repeating: 0, count: width * height * 4)
        let ok = pixels.withUnsafeMutableBytes { out in
            png_image_finish_read(&image, nil, out.baseAddress, Int32(width * 4), nil)
        }
        defer { png_image_free(&image) }
        guard ok != 0 else { throw PNGError.decoding(message(of: image), path: url.path) }
        return Canvas(width: width, height: height, pixels: pixels)
    }
}

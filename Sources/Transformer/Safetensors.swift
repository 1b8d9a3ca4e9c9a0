import Foundation
import Tensors

/// A memory-mapped `.safetensors` file, validated completely before any tensor is read.
///
/// Format: an unsigned 64-bit little-endian header length `n`, then `n` bytes of JSON
/// mapping tensor names to `{dtype, shape, data_offsets: [begin, end]}` (offsets relative
/// to the end of the header; an optional `__metadata__` entry of strings), then the raw
/// little-endian tensor data.
public struct SafetensorsFile: @unchecked Sendable {
    public enum DType: String, Sendable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"
        case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

        public var byteSize: Int {
            switch self {
            case .f64, .i64: return 8
            case .f32, .i32: return 4
            case .f16, .bf16, .i16: return 2
            case .i8, .u8, .bool: return 1
            }
        }
    }

    public struct Entry: Sendable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        /// Byte range inside the data section.
        public var range: Range<Int>
    }

    /// Largest header accepted (the format's own readers cap it at 100 MB).
    static let maximumHeaderLength = 100_000_000

    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    private let data: Data
    private let dataStart: Int

    /// A JSON number that is a whole number Lantern can index with (1.5 or 2^64 − 1 are not).
    private static func wholeNumber(_ value: Any) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        return Int(exactly: number.doubleValue)
    }

    public init(url: URL) throws {
        path = url.path
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ModelLoadError.missingFile(url.path, hint: "the model folder needs its .safetensors weights")
        }
        do {
            data = try RegularFile.read(url, mapped: true)
        } catch {
            throw ModelLoadError.unreadable(url.path, reason: error.reason)
        }
        let fail = { (problem: String) in ModelLoadError.malformedWeights(file: url.path, problem: problem) }
        guard data.count >= 8 else { throw fail("file is \(data.count) bytes, shorter than the 8-byte header length") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(Self.maximumHeaderLength), 8 + Int(headerLength) <= data.count else {
            throw fail("header length \(headerLength) does not fit in a file of \(data.count) bytes")
        }
        dataStart = 8 + Int(headerLength)
        let header: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<dataStart)) as? [String: Any] else {
                throw fail("header is not a JSON object")
            }
            header = object
        } catch let error as ModelLoadError {
            throw error
        } catch {
            throw fail("header is not valid JSON")
        }

        let dataSize = data.count - dataStart
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let info = value as? [String: Any],
                let dtypeName = info["dtype"] as? String,
                let shape = (info["shape"] as? [Any])?.compactMap(Self.wholeNumber),
                let offsets = (info["data_offsets"] as? [Any])?.compactMap(Self.wholeNumber),
                offsets.count == 2, shape.count == (info["shape"] as? [Any])?.count
            else { throw fail("entry \(name) lacks dtype, shape or data_offsets (whole numbers)") }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw ModelLoadError.unsupportedDType(name: name, dtype: dtypeName, file: url.path)
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("tensor \(name) has a negative extent in its shape \(shape)") }
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw fail("tensor \(name) claims bytes \(begin)..<\(end) but the data section has \(dataSize) bytes")
            }
            // Checked: a crafted shape's product must not wrap around (it trapped).
            guard
                let expectedBytes = (shape + [dtype.byteSize]).reduce(
                    Optional(1),
                    { product, extent in
                        product.flatMap {
                            let (p, overflow) = $0.multipliedReportingOverflow(by: extent); return overflow ? nil : p
                        }
                    })
            else {
                throw fail("tensor \(name) has shape \(shape), far larger than any file")
            }
            guard end - begin == expectedBytes else {
                throw fail("tensor \(name) has \(end - begin) bytes but \(dtypeName) × \(shape) needs \(expectedBytes)")
            }
            entries[name] = Entry(name: name, dtype: dtype, shape: shape, range: begin..<end)
        }
        // Tensors may not share bytes: sort by start and check each begins after the last ends.
        let sorted = entries.values.filter { !$0.range.isEmpty }.sorted { $0.range.lowerBound < $1.range.lowerBound }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where next.range.lowerBound < previous.range.upperBound {
            throw fail("tensors \(previous.name) and \(next.name) overlap")
        }
        self.entries = entries
        self.metadata = metadata
    }

    /// Reads one tensor converted to float32, in its stored (row-major) layout.
    public func floats(_ name: String) throws -> [Float] {
        guard let entry = entries[name] else { throw ModelLoadError.missingTensor(name: name, file: path) }
        let count = entry.shape.reduce(1, *)
        let start = dataStart + entry.range.lowerBound
        return try data.withUnsafeBytes { raw -> [Float] in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[start..<(start + entry.range.count)])
            switch entry.dtype {
            case .f32:
                return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    memcpy(buffer.baseAddress!, bytes.baseAddress!, count * 4)
                    initialized = count
                }
            case .f16:
                return (0..<count).map { Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
            case .bf16:
                // bfloat16 is the top half of a float32.
                return (0..<count).map { Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) << 16) }
            case .f64:
                return (0..<count).map { Float(bytes.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self)) }
            default:
                throw ModelLoadError.unsupportedDType(name: name, dtype: entry.dtype.rawValue, file: path)
            }
        }
    }
}

// MARK: - Writing

extension SafetensorsFile {
    /// Encodes float32 tensors (name, shape, values) as safetensors bytes, tensors in the given order.
    public static func encode(
        _ tensors: [(name: String, shape: [Int], values: [Float])],
        metadata: [String: String] = [:]
    ) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for tensor in tensors {
            precondition(tensor.shape.reduce(1, *) == tensor.values.count, "safetensors: \(tensor.name) shape/count mismatch")
            let size = tensor.values.count * 4
            header[tensor.name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + size]]
            offset += size
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so the data starts 8-byte aligned, as the format recommends.
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var data = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for tensor in tensors { tensor.values.withUnsafeBytes { data.append(contentsOf: $0) } }
        return data
    }

    /// Writes a safetensors file atomically: a temporary file beside it, then a rename, so a
    /// crash or a full disk never leaves a half-written checkpoint under the real name.
    public static func write(
        _ tensors: [(name: String, shape: [Int], values: [Float])],
        metadata: [String: String] = [:], to url: URL
    ) throws {
        try AtomicFile.write(try encode(tensors, metadata: metadata), to: url)
    }
}

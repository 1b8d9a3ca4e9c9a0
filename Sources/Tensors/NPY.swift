import Foundation

/// NumPy `.npy` files (format 1.0/2.0), the on-disk form of every traced tensor and
/// of the reference values the golden tests compare against.
public enum NPY {
    public enum Error: Swift.Error, CustomStringConvertible {
        case notNPY(String)
        case unsupported(String, reason: String)
        public var description: String {
            switch self {
            case .notNPY(let path): return "\(path) is not a NumPy .npy file (missing \\x93NUMPY magic)"
            case .unsupported(let path, let reason): return "\(path): unsupported .npy content: \(reason)"
            }
        }
    }

    /// Reads a little-endian float32, float64, int32 or int64 array as a float32 `Tensor`.
    public static func read(_ url: URL) throws -> Tensor {
        try decode(try RegularFile.read(url), name: url.path)
    }

    public static func decode(_ data: Data, name: String = "<data>") throws -> Tensor {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw Error.notNPY(name)
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            guard bytes.count >= 12 else { throw Error.notNPY(name) }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        }
        guard headerStart + headerLength <= bytes.count else {
            throw Error.unsupported(name, reason: "the file is cut short inside its header")
        }
        guard let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: .ascii) else {
            throw Error.unsupported(name, reason: "the header is not ASCII text")
        }
        guard let descr = field("descr", in: header) else { throw Error.unsupported(name, reason: "no descr") }
        if header.contains("'fortran_order': True") {
            throw Error.unsupported(name, reason: "Fortran order")
        }
        let shape = parseShape(header)
        // The shape comes from the file: every extent non-negative, and the element count and
        // byte size checked against the data before anything is allocated (a crafted header
        // could otherwise ask for negative or astronomically large arrays).
        guard shape.allSatisfy({ $0 >= 0 }) else { throw Error.unsupported(name, reason: "negative extent in shape \(shape)") }
        var count = 1
        for extent in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow else { throw Error.unsupported(name, reason: "shape \(shape) holds more elements than any file can") }
            count = product
        }
        let body = Array(bytes[(headerStart + headerLength)...])
        func load<T>(_ type: T.Type, _ convert: (T) -> Float) throws {
            guard count <= body.count / MemoryLayout<T>.size else {
                throw Error.unsupported(name, reason: "data shorter than shape \(shape)")
            }
            values = [Float](repeating: 0, count: count)
            body.withUnsafeBytes { raw in
                for i in 0..<count { values[i] = convert(raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)) }
            }
        }
        var values: [Float] = []
        switch descr {
        case "<f4": try load(Float.self) { $0 }
        case "<f8": try load(Double.self) { Float($0) }
        case "<i4": try load(Int32.self) { Float($0) }
        case "<i8": try load(Int64.self) { Float($0) }
        default: throw Error.unsupported(name, reason: "dtype \(descr)")
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// Encodes a tensor as a version 1.0 little-endian float32 `.npy`.
    public static func encode(_ tensor: Tensor) -> Data {
        let shapeText =
            tensor.shape.count == 1
            ? "(\(tensor.shape[0]),)"
            : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        // Magic (6) + version (2) + length (2) + header + "\n" is padded to a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        tensor.scalars.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }

    private static func field(_ key: String, in header: String) -> String? {
        guard let range = header.range(of: "'\(key)': '") else { return nil }
        let rest = header[range.upperBound...]
        guard let end = rest.firstIndex(of: "'") else { return nil }
        return String(rest[..<end])
    }

    private static func parseShape(_ header: String) -> [Int] {
        guard let range = header.range(of: "'shape': (") else { return [] }
        let rest = header[range.upperBound...]
        guard let end = rest.firstIndex(of: ")") else { return [] }
        return rest[..<end].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "L")))
        }
    }
}

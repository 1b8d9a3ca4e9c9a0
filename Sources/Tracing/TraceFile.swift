import Foundation
import Tensors

/// Trace folders on disk: `trace.json` plus one NumPy `.npy` per tensor, named by record
/// (`blocks.3.attn.pattern.npy`), so `numpy.load` opens any of them.
public enum TraceFile {
    static let metadataName = "trace.json"

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// Writes `trace` to `folder` atomically: everything goes into a hidden sibling folder that is
    /// renamed into place at the end, so an interrupted or failed write leaves no half trace. An
    /// existing trace at `folder` is replaced; any other existing folder is refused.
    public static func write(_ trace: Trace, to folder: URL) throws {
        let fm = FileManager.default
        let parent = folder.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: folder.path, isDirectory: &isDirectory) {
            let isEmptyFolder = isDirectory.boolValue && ((try? fm.contentsOfDirectory(atPath: folder.path))?.isEmpty ?? false)
            let isTrace = fm.fileExists(atPath: folder.appendingPathComponent(metadataName).path)
            guard isEmptyFolder || isTrace else { throw TraceError.outputExists(folder.path) }
        }
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw TraceError.unwritable(parent.path, problem: "the folder cannot be created")
        }
        let staging = parent.appendingPathComponent(".\(folder.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw TraceError.unwritable(parent.path, problem: "the folder is not writable")
        }
        do {
            for entry in trace.metadata.tensors {
                try NPY.encode(trace.tensors[entry.name]!).write(to: staging.appendingPathComponent(entry.file))
            }
            try encoder.encode(trace.metadata).write(to: staging.appendingPathComponent(metadataName))
            if fm.fileExists(atPath: folder.path) { try fm.removeItem(at: folder) }
            try fm.moveItem(at: staging, to: folder)
        } catch {
            try? fm.removeItem(at: staging)
            throw TraceError.unwritable(folder.path, problem: error.localizedDescription)
        }
    }

    /// Reads the metadata only (fast: no tensors).
    public static func readMetadata(_ folder: URL) throws -> TraceMetadata {
        let url = folder.appendingPathComponent(metadataName)
        guard let data = try? Data(contentsOf: url) else {
            throw TraceError.notATrace(folder.path, problem: "it has no readable \(metadataName)")
        }
        let metadata: TraceMetadata
        do {
            metadata = try decoder.decode(TraceMetadata.self, from: data)
        } catch {
            throw TraceError.notATrace(folder.path, problem: "\(metadataName) is malformed (\(error))")
        }
        guard metadata.format == TraceMetadata.formatName, metadata.version <= TraceMetadata.currentVersion else {
            throw TraceError.notATrace(folder.path, problem: "format \(metadata.format) version \(metadata.version) is not one this Lantern reads")
        }
        return metadata
    }

    /// Reads a whole trace; `names` limits which tensors are loaded.
    public static func read(_ folder: URL, names: Set<String>? = nil) throws -> Trace {
        let metadata = try readMetadata(folder)
        var tensors: [String: Tensor] = [:]
        for entry in metadata.tensors where names?.contains(entry.name) ?? true {
            let url = folder.appendingPathComponent(entry.file)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw TraceError.notATrace(folder.path, problem: "\(entry.file) listed in \(metadataName) is missing")
            }
            let tensor: Tensor
            do { tensor = try NPY.read(url) } catch {
                throw TraceError.notATrace(folder.path, problem: "\(entry.file) is unreadable (\(error))")
            }
            guard tensor.shape == entry.shape else {
                throw TraceError.notATrace(folder.path, problem: "\(entry.file) has shape \(tensor.shape), \(metadataName) says \(entry.shape)")
            }
            tensors[entry.name] = tensor
        }
        return Trace(metadata: metadata, tensors: tensors)
    }
}

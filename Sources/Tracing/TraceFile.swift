import Foundation
import Tensors
import Transformer

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
    /// renamed into place at the end, so an interrupted or failed write leaves no half trace.
    ///
    /// An existing `folder` is replaced only when it is a Lantern trace holding nothing but its
    /// own files (`trace.json` and the `.npy` files it lists) — anything else, even a folder with
    /// a stray `trace.json`, is refused and left untouched. The old trace is moved aside, the new
    /// one renamed in, and only then the old one deleted: stopped at any point, one complete trace
    /// remains (an aside copy left by an interrupted swap is put back by the next write).
    /// Staging folders that a killed write left behind (older than `staleAge`) are removed.
    public static func write(_ trace: Trace, to folder: URL) throws {
        let fm = FileManager.default
        let parent = folder.deletingLastPathComponent()
        recoverInterruptedSwap(of: folder)
        removeStaleStaging(of: folder)
        try checkDestination(folder)
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw TraceError.unwritable(parent.path, problem: "the folder cannot be created")
        }
        let staging = sibling(of: folder, kind: stagingKind)
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
        } catch {
            try? fm.removeItem(at: staging)
            throw TraceError.unwritable(folder.path, problem: PlainError.reason(error))
        }
        // The swap: old trace aside, new one in, old one deleted.
        var aside: URL? = nil
        if fm.fileExists(atPath: folder.path) {
            let oldCopy = sibling(of: folder, kind: asideKind)
            do { try fm.moveItem(at: folder, to: oldCopy) } catch {
                try? fm.removeItem(at: staging)
                throw TraceError.unwritable(folder.path, problem: "the old trace could not be moved aside (\(PlainError.reason(error)))")
            }
            aside = oldCopy
        }
        do {
            try fm.moveItem(at: staging, to: folder)
        } catch {
            if let aside { try? fm.moveItem(at: aside, to: folder) }
            try? fm.removeItem(at: staging)
            throw TraceError.unwritable(folder.path, problem: PlainError.reason(error))
        }
        if let aside { try? fm.removeItem(at: aside) }
    }

    /// Throws unless `folder` is absent, an empty folder, or a trace holding only its own files:
    /// what `write` may replace. Commands call it before running, so a refusal costs nothing.
    public static func checkDestination(_ folder: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) else { return }
        let isEmptyFolder = isDirectory.boolValue && ((try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.isEmpty ?? false)
        guard isEmptyFolder || isReplaceableTrace(folder) else { throw TraceError.outputExists(folder.path) }
    }

    static let stagingKind = "partial", asideKind = "replaced"
    /// A staging folder this old cannot belong to a write still running.
    static let staleAge: TimeInterval = 600

    /// `.NAME.KIND-XXXXXXXX` beside `folder`.
    static func sibling(of folder: URL, kind: String) -> URL {
        folder.deletingLastPathComponent().appendingPathComponent(".\(folder.lastPathComponent).\(kind)-\(UUID().uuidString.prefix(8))")
    }

    static func siblings(of folder: URL, kind: String) -> [URL] {
        let parent = folder.deletingLastPathComponent(), prefix = ".\(folder.lastPathComponent).\(kind)-"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) && $0.count == prefix.count + 8 }.map { parent.appendingPathComponent($0) }
    }

    /// A trace folder whose every entry is its own: `trace.json` and the files it lists.
    static func isReplaceableTrace(_ folder: URL) -> Bool {
        guard let metadata = try? readMetadata(folder),
            let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path)
        else { return false }
        let own = Set([metadataName] + metadata.tensors.map(\.file))
        return names.allSatisfy { name in
            var isDirectory: ObjCBool = false
            let path = folder.appendingPathComponent(name).path
            return own.contains(name) && FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
    }

    /// A write stopped between moving the old trace aside and renaming the new one in leaves no
    /// `folder` but a complete aside copy: put it back.
    static func recoverInterruptedSwap(of folder: URL) {
        let fm = FileManager.default
        guard !fm.fileExists(atPath: folder.path),
            let copy = siblings(of: folder, kind: asideKind).first(where: { isReplaceableTrace($0) })
        else { return }
        try? fm.moveItem(at: copy, to: folder)
    }

    /// Removes staging folders of `folder` that a killed write left (never a recent one: another
    /// process may be writing it now), and aside copies once `folder` holds a trace again.
    static func removeStaleStaging(of folder: URL) {
        let fm = FileManager.default
        for staging in siblings(of: folder, kind: stagingKind) {
            let modified = (try? fm.attributesOfItem(atPath: staging.path)[.modificationDate] as? Date) ?? Date()
            if Date().timeIntervalSince(modified) > staleAge { try? fm.removeItem(at: staging) }
        }
        if isReplaceableTrace(folder) {
            for copy in siblings(of: folder, kind: asideKind) where isReplaceableTrace(copy) { try? fm.removeItem(at: copy) }
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
            throw TraceError.notATrace(
                folder.path, problem: "\(metadataName) is malformed: \(PlainError.decoding(error, in: data, snakeCaseKeys: true))")
        }
        guard metadata.format == TraceMetadata.formatName, metadata.version <= TraceMetadata.currentVersion else {
            throw TraceError.notATrace(
                folder.path, problem: "format \(metadata.format) version \(metadata.version) is not one this Lantern reads")
        }
        if let problem = inconsistency(metadata) {
            throw TraceError.notATrace(folder.path, problem: "\(metadataName) contradicts itself: \(problem)")
        }
        return metadata
    }

    /// What in a trace's metadata disagrees with the rest of it, or nil. Every later reader
    /// indexes pieces, steps and tensor rows by token position, so these are checked once here.
    static func inconsistency(_ m: TraceMetadata) -> String? {
        let tokens = m.promptIds.count + m.generatedIds.count, V = m.model.vocabularySize
        if m.promptIds.isEmpty { return "prompt_ids is empty" }
        // Replay samples with these; they were never typed as flags, so say so here rather than "--top-k … is out of range".
        do { try m.sampling.validate() } catch {
            return "its sampling settings are impossible (" + "\(error)".replacingOccurrences(of: "--", with: "") + ")"
        }
        if m.pieces.count != tokens { return "\(m.pieces.count) pieces for \(tokens) tokens" }
        if let texts = m.texts, texts.count != tokens { return "\(texts.count) texts for \(tokens) tokens" }
        if let rows = m.decoderIds {
            // A generating run's decoder read its start token and every generated one; a pass
            // that generated nothing (a classifier's) may have read any rows.
            let forcedPass = m.generatedIds.isEmpty && m.steps.isEmpty
            if !forcedPass && rows.count != m.generatedIds.count + 1 {
                return "\(rows.count) decoder rows for \(m.generatedIds.count) generated tokens"
            }
            if m.decoderPieces?.count != rows.count {
                return "\(m.decoderPieces?.count ?? 0) decoder pieces for \(rows.count) decoder rows"
            }
        }
        if let bad = m.tokens.first(where: { !(0..<V).contains($0) }) { return "token id \(bad) is outside the vocabulary of \(V)" }
        if m.steps.count > m.generatedIds.count + 1 {
            return "\(m.steps.count) sampling steps for \(m.generatedIds.count) generated tokens"
        }
        if let step = m.steps.first(where: { !(0..<V).contains($0.chosen) }) {
            return "a step chose token \(step.chosen), outside the vocabulary"
        }
        if let step = m.steps.first(where: { !(0...1).contains($0.chosenProbability) }) {
            return "a step gives its token the probability \(step.chosenProbability), outside 0…1"
        }
        // Step i chose generated token i (a last extra step may hold the end-of-text that ended the run).
        if let i = (0..<min(m.steps.count, m.generatedIds.count)).first(where: { m.steps[$0].chosen != m.generatedIds[$0] }) {
            return "step \(i) chose token \(m.steps[i].chosen) but generated token \(i) is \(m.generatedIds[i])"
        }
        for entry in m.tensors {
            // Tensor files live in the trace folder itself: a listed path never leads out of it.
            if entry.file.contains("/") || entry.file == ".." || entry.file.isEmpty {
                return "tensor file \"\(entry.file)\" is not a file name inside the trace folder"
            }
            if entry.shape.contains(where: { $0 < 0 }) { return "\(entry.file) has a negative extent in \(entry.shape)" }
            // Position axes: [head, query, key] for attention, [head, position, hs] for q/k/v/z,
            // [position, …] for everything else.
            let positions: [Int]
            switch RecordKind(recordName: entry.name)?.axes ?? .positionRows {
            case .headQueryKey: positions = Array(entry.shape.suffix(2))
            case .headPositions: positions = entry.shape.count > 1 ? [entry.shape[1]] : []
            case .positionRows: positions = Array(entry.shape.prefix(1))
            }
            if let longest = positions.max(), longest > tokens {
                return "\(entry.file) covers \(longest) positions but the trace has \(tokens) tokens"
            }
        }
        return nil
    }

    /// Reads a whole trace; `names` limits which tensors are loaded.
    public static func read(_ folder: URL, names: Set<String>? = nil) throws -> Trace {
        try read(folder, metadata: readMetadata(folder), names: names)
    }

    /// The tensors of a trace whose metadata was already read (and checked) by `readMetadata`,
    /// so trace.json is parsed once.
    public static func read(_ folder: URL, metadata: TraceMetadata, names: Set<String>? = nil) throws -> Trace {
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
                throw TraceError.notATrace(
                    folder.path, problem: "\(entry.file) has shape \(tensor.shape), \(metadataName) says \(entry.shape)")
            }
            // −∞ is a masked attention score; NaN is never recorded by Lantern, nor +∞ outside scores.
            if tensor.scalars.contains(where: { $0.isNaN || $0 == .infinity }) {
                throw TraceError.notATrace(
                    folder.path, problem: "\(entry.file) holds NaN or infinite values (a damaged file, or a model whose weights do)")
            }
            tensors[entry.name] = tensor
        }
        return Trace(metadata: metadata, tensors: tensors)
    }
}

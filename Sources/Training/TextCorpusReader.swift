import Foundation

// MARK: - Reading plain-text training data

/// Reads the plain text Lantern trains on (tokenizers, models) from a path the
/// user named: one file, or a folder of `.txt` files.
///
/// - A file is read whatever its name.
/// - A folder contributes every regular, non-hidden file directly inside it
///   whose name ends in `.txt` (any case), in byte order of the names; sub-
///   folders are not searched.
/// - Every file must be UTF-8 text: a NUL byte means binary data, and invalid
///   UTF-8 is refused with the offset of the first bad byte. A leading UTF-8
///   byte order mark is dropped. Nothing is normalised: the text keeps its
///   exact bytes (and "\r\n" stays two characters).
/// - Data with no bytes at all (an empty file, a folder of empty files) is an
///   error, as is a folder with no `.txt` file.
///
/// `documents(at:)` keeps the files apart (a trainer can treat each as its own
/// text); `read(path:)` joins them into one string.
public enum TextCorpusReader {
    /// One file's text.
    public struct Document: Sendable, Equatable {
        /// The file it came from.
        public var path: String
        public var text: String

        public init(path: String, text: String) {
            self.path = path
            self.text = text
        }
    }

    /// The text files at `path` (see the type's rules), each decoded, in order.
    /// - Throws: `TextCorpusError` naming the path and the problem.
    public static func documents(at path: String) throws(TextCorpusError) -> [Document] {
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw .notFound(path: url.path)
        }
        let files = isFolder.boolValue ? try textFiles(in: url) : [url]
        var documents: [Document] = []
        for file in files {
            documents.append(Document(path: file.path, text: try decode(readData(file), path: file.path)))
        }
        guard documents.contains(where: { !$0.text.utf8.isEmpty }) else { throw .empty(path: url.path) }
        return documents
    }

    /// All the text at `path` as one string: the documents in order, with a
    /// "\n" put between two of them only where the first does not already end
    /// with one (so words never run across files).
    /// - Throws: `TextCorpusError` naming the path and the problem.
    public static func read(path: String) throws(TextCorpusError) -> String {
        var text = ""
        for document in try documents(at: path) {
            if let last = text.utf8.last, last != UInt8(ascii: "\n") { text += "\n" }
            text += document.text
        }
        return text
    }

    /// The `.txt` files directly inside `folder`, in byte order of their names.
    /// - Throws: `.unreadable` when the folder cannot be listed, `.noTextFiles` when it holds none.
    public static func textFiles(in folder: URL) throws(TextCorpusError) -> [URL] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw .unreadable(path: folder.path, reason: "the folder cannot be listed")
        }
        let files =
            names
            .filter { !$0.hasPrefix(".") && $0.lowercased().hasSuffix(".txt") }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            .map { folder.appendingPathComponent($0) }
            .filter { file in
                var isFolder: ObjCBool = false
                return FileManager.default.fileExists(atPath: file.path, isDirectory: &isFolder) && !isFolder.boolValue
            }
        guard !files.isEmpty else { throw .noTextFiles(folder: folder.path) }
        return files
    }

    /// `data` as text, or why it is not UTF-8 text (`path` names it in the error).
    /// - Throws: `.binary` for a NUL byte, `.notUTF8` for invalid UTF-8.
    public static func decode(_ data: Data, path: String) throws(TextCorpusError) -> String {
        var bytes = [UInt8](data)
        if let nul = bytes.firstIndex(of: 0) { throw .binary(path: path, offset: nul) }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        if let bad = firstInvalidUTF8Offset(bytes) {
            // Report the offset in the file, byte order mark included.
            throw .notUTF8(path: path, offset: bad + (data.count - bytes.count))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Where the first byte that is not part of valid UTF-8 sits, or nil when all are.
    static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                offset += encoded.count
            case .emptyInput:
                return nil
            case .error:
                return offset
            }
        }
    }

    private static func readData(_ url: URL) throws(TextCorpusError) -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw .unreadable(path: url.path, reason: "it cannot be read")
        }
    }
}

// MARK: - Errors

/// Why training data could not be read. Every case names the path; the
/// message ends with a hint.
public enum TextCorpusError: Error, Equatable, Sendable {
    /// Nothing exists at the path.
    case notFound(path: String)
    /// The file or folder exists but cannot be read.
    case unreadable(path: String, reason: String)
    /// A folder without a single `.txt` file in it.
    case noTextFiles(folder: String)
    /// The data has no bytes at all.
    case empty(path: String)
    /// A NUL byte at `offset`: binary data, or text in UTF-16/32.
    case binary(path: String, offset: Int)
    /// The bytes at `offset` are not valid UTF-8.
    case notUTF8(path: String, offset: Int)

    /// What went wrong, without the hint.
    public var problem: String {
        switch self {
        case .notFound(let path): return "\(path): no such file or folder"
        case .unreadable(let path, let reason): return "\(path): cannot read the data (\(reason))"
        case .noTextFiles(let folder): return "\(folder): the folder holds no .txt files"
        case .empty(let path): return "\(path): the data is empty"
        case .binary(let path, let offset): return "\(path): binary data, not text (a NUL byte at offset \(offset))"
        case .notUTF8(let path, let offset): return "\(path): not UTF-8 text (invalid byte at offset \(offset))"
        }
    }

    /// What the user can do about it.
    public var hint: String {
        switch self {
        case .notFound: return "check the path"
        case .unreadable: return "check that it is a file or folder you may read"
        case .noTextFiles: return "put the training text in files named *.txt, or name one file"
        case .empty: return "give some text to train on"
        case .binary, .notUTF8: return "training data must be plain UTF-8 text; convert it first (e.g. with iconv)"
        }
    }
}

extension TextCorpusError: CustomStringConvertible, LocalizedError {
    public var description: String { "\(problem). Hint: \(hint)." }
    public var errorDescription: String? { description }
}

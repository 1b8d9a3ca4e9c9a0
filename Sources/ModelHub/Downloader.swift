import Foundation
import Tensors

/// What a download reports as it goes (for a progress display).
public enum DownloadEvent: Sendable, Equatable {
    /// Bytes kept from an interrupted run are being hashed before the transfer continues.
    case checkingPartial(file: String, bytes: Int64)
    /// A file's transfer began: its size where known, and how much of it was already on disk.
    case started(file: String, url: URL, expectedBytes: Int64?, resumingAt: Int64)
    /// The file on disk has grown to `receivedBytes` (of the `expectedBytes` that `started` gave).
    case progress(file: String, receivedBytes: Int64)
    /// The server ignored the `Range` request (or answered it wrongly): the file starts over.
    case restarted(file: String, reason: String)
    /// A file is complete and verified (`sha256Verified`: against a published checksum; otherwise by size).
    case finished(file: String, bytes: Int64, sha256: String, sha256Verified: Bool)
    /// A file was not fetched: already complete from an earlier run, or optional and not published.
    case skipped(file: String, reason: String)
}

/// The result of `Downloader.download`.
public struct DownloadResult: Sendable, Equatable {
    /// The finished model folder.
    public var folder: URL
    /// The model was already there; nothing was fetched.
    public var alreadyPresent: Bool
}

/// Downloads catalog models into Lantern's models folder.
///
/// - Files stream to disk as `<models>/<name>.partial/<file>.partial`; an interrupted download
///   keeps what arrived, and the next run continues with an HTTP `Range` request (starting over
///   when the server ignores it).
/// - A finished file is checked against its size (the catalog's, the hub's `X-Linked-Size`, or
///   `Content-Length`) and its SHA-256 where one is published (the catalog's, else the hub's
///   `X-Linked-Etag` on its redirect, else an unredirected answer's `ETag` that is a SHA-256, as
///   the hub gives for LFS files), then renamed to `<file>`.
/// - Only when every file is complete does `<name>.partial/` become `<name>/`: a model folder is
///   never half-written.
public struct Downloader: Sendable {
    public static let defaultEndpoint = URL(string: "https://huggingface.co")!
    /// Suffix of staging folders and of files still arriving.
    public static let stagingSuffix = ".partial"

    public var locations: ModelLocations
    /// The hub's base address (`--endpoint`, `HF_ENDPOINT`): files are `<endpoint>/<repo>/resolve/<revision>/<path>`.
    public var endpoint: URL
    public var revision: String
    /// How long to wait for the next bytes before giving up.
    public var idleTimeout: TimeInterval
    public var onEvent: @Sendable (DownloadEvent) -> Void

    public init(
        locations: ModelLocations, endpoint: URL = Downloader.defaultEndpoint, revision: String = "main",
        idleTimeout: TimeInterval = 60, onEvent: @escaping @Sendable (DownloadEvent) -> Void = { _ in }
    ) {
        self.locations = locations
        self.endpoint = endpoint
        self.revision = revision
        self.idleTimeout = idleTimeout
        self.onEvent = onEvent
    }

    /// The endpoint from `--endpoint`, else `HF_ENDPOINT`, else the Hugging Face hub.
    public static func endpoint(option: String?, environment: [String: String]) throws -> URL {
        guard let text = option ?? environment["HF_ENDPOINT"].flatMap({ $0.isEmpty ? nil : $0 }) else { return defaultEndpoint }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host != nil
        else {
            throw ModelHubError.fileSystem(
                path: text, problem: "not an http(s) address; give the hub's base address such as https://huggingface.co")
        }
        return url
    }

    /// Where a catalog file is fetched from.
    public func url(for file: CatalogFile) -> URL {
        switch file.source {
        case .url(let url):
            return url
        case .hub(let repo, let path):
            let base = endpoint.absoluteString.hasSuffix("/") ? String(endpoint.absoluteString.dropLast()) : endpoint.absoluteString
            let encoded = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? text }
            return URL(string: "\(base)/\(encoded(repo))/resolve/\(encoded(revision))/\(encoded(path))")!
        }
    }

    /// Fetches every file of `entry` into `<models>/<entry.name>/`. An existing folder is kept
    /// (`alreadyPresent`) unless `force`, which replaces it once the new copy is complete.
    @discardableResult
    public func download(_ entry: CatalogEntry, force: Bool = false) throws -> DownloadResult {
        let fileManager = FileManager.default
        let final = locations.lanternFolder(for: entry.name)
        if fileManager.fileExists(atPath: final.path) && !force {
            return DownloadResult(folder: final, alreadyPresent: true)
        }
        let staging = locations.lanternModels.appendingPathComponent(entry.name + Self.stagingSuffix, isDirectory: true)
        try fileSystem(staging.path) { try fileManager.createDirectory(at: staging, withIntermediateDirectories: true) }
        do {
            for file in entry.files {
                let done = staging.appendingPathComponent(file.name)
                if fileManager.fileExists(atPath: done.path) {
                    onEvent(.skipped(file: file.name, reason: "already downloaded"))
                    continue
                }
                try fetch(file, into: staging)
            }
        } catch {
            Self.removeIfEmpty(staging)
            throw error
        }
        // Every file is in place: the model folder appears in one rename.
        try fileSystem(final.path) {
            if fileManager.fileExists(atPath: final.path) {
                let old = locations.lanternModels.appendingPathComponent(".\(entry.name).replaced-\(UUID().uuidString)")
                try fileManager.moveItem(at: final, to: old)
                try fileManager.moveItem(at: staging, to: final)
                try? fileManager.removeItem(at: old)
            } else {
                try fileManager.moveItem(at: staging, to: final)
            }
        }
        return DownloadResult(folder: final, alreadyPresent: false)
    }

    // MARK: - One file

    /// Brings `<staging>/<file>` into existence, complete and verified (or skips an optional file
    /// the server does not have).
    func fetch(_ file: CatalogFile, into staging: URL) throws {
        let fileManager = FileManager.default
        let partial = staging.appendingPathComponent(file.name + Self.stagingSuffix)
        let url = url(for: file)
        // Files in a subfolder (a sentence encoder's `1_Pooling/config.json`) need the subfolder.
        let folder = partial.deletingLastPathComponent()
        if folder.standardizedFileURL != staging.standardizedFileURL {
            try fileSystem(folder.path) { try fileManager.createDirectory(at: folder, withIntermediateDirectories: true) }
        }
        // At most two passes: a second only when the server mishandled the Range of the first.
        for _ in 0..<2 {
            if !fileManager.fileExists(atPath: partial.path) {
                try fileSystem(partial.path) {
                    guard fileManager.createFile(atPath: partial.path, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
                }
            }
            let offset = try fileSystem(partial.path) { try Self.fileSize(partial) }
            if offset > 0 { onEvent(.checkingPartial(file: file.name, bytes: offset)) }
            let existingHash = try fileSystem(partial.path) { try Self.hash(of: partial) }
            let name = file.name
            let events = onEvent
            let outcome = HTTPFileTransfer.run(
                url: url, file: partial, offset: offset, hashOfExisting: existingHash, idleTimeout: idleTimeout,
                userAgent: "lantern (ModelHub)",
                onResponse: { response in
                    if offset > 0 && response.startOffset == 0 {
                        events(.restarted(file: name, reason: "the server ignored the Range request"))
                    }
                    events(
                        .started(
                            file: name, url: url, expectedBytes: Self.expectedSize(of: file, outcome: response),
                            resumingAt: response.startOffset))
                },
                onBytes: { size in events(.progress(file: name, receivedBytes: size)) })
            if let problem = outcome.writeError {
                throw ModelHubError.fileSystem(path: partial.path, problem: "cannot write the download: \(PlainError.reason(problem))")
            }
            guard let status = outcome.status else {
                throw Self.connectionError(outcome.error, url: url)
            }
            switch status {
            case 200:
                try finish(file, partial: partial, url: url, outcome: outcome, staging: staging)
                return
            case 206 where ContentRange(outcome.headers["content-range"])?.start == offset:
                try finish(file, partial: partial, url: url, outcome: outcome, staging: staging)
                return
            case 206:
                // A range we did not ask for: start the file over.
                try fileSystem(partial.path) { try fileManager.removeItem(at: partial) }
                onEvent(.restarted(file: name, reason: "the server answered a different range"))
            case 416 where offset > 0:
                // Nothing left to send: the partial may already hold the whole file.
                let total = ContentRange(outcome.headers["content-range"])?.total
                if let total, total == offset {
                    var complete = outcome
                    complete.startOffset = offset
                    complete.bytesWritten = 0
                    try finish(file, partial: partial, url: url, outcome: complete, staging: staging, expectedOverride: total)
                    return
                }
                try fileSystem(partial.path) { try fileManager.removeItem(at: partial) }
                onEvent(.restarted(file: name, reason: "the partial file is longer than the server's"))
            case 404 where file.optional:
                try? fileManager.removeItem(at: partial)
                onEvent(.skipped(file: name, reason: "optional, and the server does not have it"))
                return
            default:
                if offset == 0 { try? fileManager.removeItem(at: partial) }
                throw ModelHubError.httpStatus(file: name, url: url.absoluteString, status: status)
            }
        }
        throw ModelHubError.interrupted(
            file: file.name, received: 0, expected: file.size,
            reason: "the server did not honour the resume request twice")
    }

    /// After the body: check completeness, size and checksum, then rename `<file>.partial` → `<file>`.
    private func finish(
        _ file: CatalogFile, partial: URL, url: URL, outcome: HTTPFileTransfer.Outcome, staging: URL,
        expectedOverride: Int64? = nil
    ) throws {
        let headers = outcome.headers, linked = outcome.redirectHeaders
        let serverSize = expectedOverride ?? Self.serverSize(outcome)
        if let known = file.size, let serverSize, known != serverSize {
            try? FileManager.default.removeItem(at: partial)
            throw ModelHubError.sizeMismatch(file: file.name, expected: known, found: serverSize)
        }
        let expected = file.size ?? serverSize
        let size = outcome.fileSize
        if let expected {
            if size < expected {
                // Keep what arrived: the next run resumes from here.
                throw ModelHubError.interrupted(
                    file: file.name, received: size, expected: expected,
                    reason: Self.describe(outcome.error) ?? "the connection closed early")
            }
            if size > expected {
                try? FileManager.default.removeItem(at: partial)
                throw ModelHubError.sizeMismatch(file: file.name, expected: expected, found: size)
            }
        } else if outcome.error != nil {
            throw ModelHubError.interrupted(
                file: file.name, received: size, expected: nil,
                reason: Self.describe(outcome.error) ?? "the connection failed")
        }
        let digest = outcome.hash.hexDigest()
        // After a redirect the final ETag is the blob store's own: only the hub's X-Linked-Etag counts then.
        let published =
            file.sha256 ?? Self.sha256(fromETag: linked["x-linked-etag"])
            ?? (linked.isEmpty ? Self.sha256(fromETag: headers["etag"]) : nil)
        if let published, published != digest {
            try? FileManager.default.removeItem(at: partial)
            throw ModelHubError.checksumMismatch(file: file.name, expected: published, found: digest)
        }
        // Without a published checksum, a size check passes whatever the server sent: at least
        // make sure it is not an HTML error or sign-in page (no model file starts like one).
        if published == nil, Self.looksLikeAWebPage(partial) {
            try? FileManager.default.removeItem(at: partial)
            throw ModelHubError.webPageInsteadOfFile(file: file.name)
        }
        if published == nil, let problem = Self.contentProblem(partial, name: file.name) {
            try? FileManager.default.removeItem(at: partial)
            throw ModelHubError.malformedFile(file: file.name, problem: problem)
        }
        let done = staging.appendingPathComponent(file.name)
        try fileSystem(done.path) { try FileManager.default.moveItem(at: partial, to: done) }
        onEvent(.finished(file: file.name, bytes: size, sha256: digest, sha256Verified: published != nil))
    }

    // MARK: - Helpers

    /// Whether a file begins (after white space) like an HTML or XML document.
    static func looksLikeAWebPage(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 512)) ?? Data()
        let text = String(decoding: head, as: UTF8.self).drop { $0.isWhitespace }.prefix(14).lowercased()
        return ["<!doctype html", "<html", "<?xml", "<head", "<body"].contains { text.hasPrefix($0) }
    }

    /// Why a file that no checksum vouches for cannot be what its name says, or nil: a `.json`
    /// file (config, tokenizer, pooling) must parse as JSON. (Weights come with the hub's checksum.)
    static func contentProblem(_ url: URL, name: String) -> String? {
        guard name.hasSuffix(".json") else { return nil }
        // The largest tokenizer.json files are tens of MB; never read a giant body into memory.
        if let size = try? fileSize(url), size > 256 << 20 {
            return "it is \(ByteCount.format(size)), far more than any model's JSON file"
        }
        guard let data = try? Data(contentsOf: url) else { return nil }
        guard (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) == nil else { return nil }
        let start = String(decoding: data.prefix(24), as: UTF8.self).debugDescription
        return "it is not JSON; it begins \(start)"
    }

    /// A failed first attempt leaves nothing behind: empty partial files go, then the folder if it is empty.
    static func removeIfEmpty(_ staging: URL) {
        let fileManager = FileManager.default
        let names = (try? fileManager.contentsOfDirectory(atPath: staging.path)) ?? []
        for name in names where name.hasSuffix(stagingSuffix) {
            let url = staging.appendingPathComponent(name)
            if (try? fileSize(url)) == 0 { try? fileManager.removeItem(at: url) }
        }
        if ((try? fileManager.contentsOfDirectory(atPath: staging.path)) ?? ["?"]).isEmpty {
            try? fileManager.removeItem(at: staging)
        }
    }

    /// The whole file's size as the server states it: the hub's `X-Linked-Size` on its redirect,
    /// the total of `Content-Range`, or the `Content-Length` of a plain (uncompressed) 200 answer.
    static func serverSize(_ outcome: HTTPFileTransfer.Outcome) -> Int64? {
        let headers = outcome.headers
        let compressed = headers["content-encoding"].map { $0.lowercased() != "identity" } ?? false
        return outcome.redirectHeaders["x-linked-size"].flatMap { Int64($0) }
            ?? ContentRange(headers["content-range"])?.total
            ?? (outcome.status == 200 && !compressed ? headers["content-length"].flatMap { Int64($0) } : nil)
    }

    static func expectedSize(of file: CatalogFile, outcome: HTTPFileTransfer.Outcome) -> Int64? {
        file.size ?? serverSize(outcome)
    }

    /// An ETag that is a SHA-256 (the hub's ETag for LFS files): `"abc…"` or `W/"abc…"` → `abc…`.
    static func sha256(fromETag etag: String?) -> String? {
        guard var tag = etag?.trimmingCharacters(in: .whitespaces) else { return nil }
        if tag.hasPrefix("W/") { tag = String(tag.dropFirst(2)) }
        tag = tag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        let hex = tag.lowercased()
        return hex.count == 64 && hex.allSatisfy({ $0.isHexDigit }) ? hex : nil
    }

    static func fileSize(_ url: URL) throws -> Int64 {
        (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// SHA-256 of a file so far, read in 1 MiB pieces (a resumed download continues this hash).
    static func hash(of url: URL) throws -> SHA256 {
        var hash = SHA256()
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hash.update($0) }
        }
        return hash
    }

    /// No response at all: name the host and why.
    static func connectionError(_ error: Error?, url: URL) -> ModelHubError {
        var host = url.host ?? url.absoluteString
        if let port = url.port { host += ":\(port)" }
        return .unreachable(host: host, reason: describe(error) ?? "no response")
    }

    static func describe(_ error: Error?) -> String? {
        guard let error else { return nil }
        if let transfer = error as? HTTPFileTransfer.TransferError { return transfer.description }
        return PlainError.reason(error)
    }

    @discardableResult
    private func fileSystem<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as ModelHubError { throw error } catch {
            throw ModelHubError.fileSystem(
                path: path, problem: PlainError.blockedFolder(URL(fileURLWithPath: path)) ?? PlainError.reason(error))
        }
    }
}

import CCurl
import Foundation

/// One HTTP GET streamed onto the end of a file on disk, resuming with a `Range` request.
///
/// The body never sits in memory as a whole: each chunk libcurl delivers is appended to the
/// file and fed to a running SHA-256 before the next one is taken. Redirects are followed (the
/// hub redirects large files to its CDN), carrying the `Range` header along, and the headers of
/// each redirect response are kept: the hub puts a large file's SHA-256 (`X-Linked-Etag`) and size
/// (`X-Linked-Size`) on its redirect, not on the CDN's final answer. libcurl sleeps in poll()
/// while the network is slow (URLSession on Linux kept a core ~80 % busy waiting).
final class HTTPFileTransfer: @unchecked Sendable {
    /// What came back.
    struct Outcome {
        /// The final response's status, nil if no response arrived (no connection, …).
        var status: Int?
        /// The final response's headers, names lowercased.
        var headers: [String: String] = [:]
        /// Headers of the redirect responses on the way, names lowercased (later ones win).
        var redirectHeaders: [String: String] = [:]
        /// Where the body was written from: the requested offset, or 0 when the server ignored `Range`.
        var startOffset: Int64 = 0
        /// Body bytes written by this transfer.
        var bytesWritten: Int64 = 0
        /// SHA-256 over the whole file as it now stands on disk, [0, startOffset + bytesWritten).
        var hash = SHA256()
        /// The transport error, if the transfer did not end cleanly.
        var error: Error?
        /// A local failure (disk full, …) that stopped the transfer.
        var writeError: Error?

        var fileSize: Int64 { startOffset + bytesWritten }
    }

    /// Why a transfer failed, in the words libcurl's result maps to ("host not found", "timed out", …).
    struct TransferError: Error, CustomStringConvertible {
        var code: Int32
        var description: String
    }

    private let file: URL
    private let offset: Int64
    private let onResponse: @Sendable (Outcome) -> Void
    private let onBytes: @Sendable (Int64) -> Void
    private var handle: FileHandle?
    private var outcome = Outcome()
    /// The response whose headers are arriving: its status and headers so far.
    private var responseStatus: Int?
    private var responseHeaders: [String: String] = [:]
    /// Whether the body was accepted (200, or 206 from the asked-for offset) or declined.
    private var bodyDecision: Bool?

    /// Streams `url` onto `file`, asking for the bytes from `offset` on (the file's current size,
    /// whose hash is `hashOfExisting`). `onResponse` sees the outcome so far when a body starts
    /// arriving (200 or the asked-for 206); `onBytes` gets the file's size after each chunk. Blocks
    /// until the transfer ends; `idleTimeout` bounds how long no byte may arrive.
    static func run(
        url: URL, file: URL, offset: Int64, hashOfExisting: SHA256, idleTimeout: TimeInterval,
        userAgent: String, onResponse: @escaping @Sendable (Outcome) -> Void,
        onBytes: @escaping @Sendable (Int64) -> Void
    ) -> Outcome {
        let transfer = HTTPFileTransfer(file: file, offset: offset, onResponse: onResponse, onBytes: onBytes)
        transfer.outcome.startOffset = offset
        transfer.outcome.hash = hashOfExisting
        var status = 0
        var reason = [CChar](repeating: 0, count: 256)
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        let code = reason.withUnsafeMutableBufferPointer { buffer in
            lantern_curl_get(
                url.absoluteString, offset > 0 ? "\(offset)-" : nil, userAgent, max(1, Int(idleTimeout.rounded(.up))),
                { data, length, context in
                    Unmanaged<HTTPFileTransfer>.fromOpaque(context!).takeUnretainedValue().header(data!, length)
                },
                { data, length, context in
                    Unmanaged<HTTPFileTransfer>.fromOpaque(context!).takeUnretainedValue().body(data!, length)
                }, context, &status, buffer.baseAddress, buffer.count)
        }
        try? transfer.handle?.close()
        if transfer.outcome.status == nil, status > 0 { transfer.outcome.status = status }
        if transfer.outcome.status != nil, transfer.outcome.headers.isEmpty { transfer.outcome.headers = transfer.responseHeaders }
        // A declined body (a status the caller handles) or a local write failure is not a transport error.
        let stoppedOnPurpose =
            lantern_curl_stopped_by_sink(code) != 0 && (transfer.bodyDecision == false || transfer.outcome.writeError != nil)
        if code != 0 && !stoppedOnPurpose {
            transfer.outcome.error = TransferError(code: code, description: String(cString: reason))
        }
        return transfer.outcome
    }

    private init(
        file: URL, offset: Int64, onResponse: @escaping @Sendable (Outcome) -> Void, onBytes: @escaping @Sendable (Int64) -> Void
    ) {
        self.file = file
        self.offset = offset
        self.onResponse = onResponse
        self.onBytes = onBytes
    }

    // MARK: - libcurl's callbacks (on the calling thread, in order)

    /// A header line: a status line starts a response (the previous one was a redirect, whose
    /// headers are kept); others are `Name: value`.
    private func header(_ data: UnsafePointer<CChar>, _ length: Int) -> Int {
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            if responseStatus != nil { outcome.redirectHeaders.merge(responseHeaders) { _, new in new } }
            responseStatus = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
            responseHeaders = [:]
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].lowercased()
            responseHeaders[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return length
    }

    /// Body bytes: the first chunk decides whether this response's body is the file's (200, or
    /// 206 from the asked-for offset); any other is declined, and the caller reads its status.
    private func body(_ data: UnsafePointer<CChar>, _ length: Int) -> Int {
        if bodyDecision == nil {
            outcome.status = responseStatus
            outcome.headers = responseHeaders
            bodyDecision = accept()
        }
        guard bodyDecision == true, let handle, outcome.writeError == nil else { return 0 }
        do {
            let chunk = UnsafeRawBufferPointer(start: data, count: length)
            try handle.write(contentsOf: Data(chunk))
            outcome.hash.update(chunk)
            outcome.bytesWritten += Int64(length)
            onBytes(outcome.fileSize)
            return length
        } catch {
            outcome.writeError = error
            return 0
        }
    }

    /// Opens the file for this response's body, or says no.
    private func accept() -> Bool {
        guard let status = outcome.status else { return false }
        let partialContentFromOffset = status == 206 && ContentRange(outcome.headers["content-range"])?.start == offset
        guard status == 200 || partialContentFromOffset else { return false }
        do {
            let handle = try FileHandle(forWritingTo: file)
            if status == 200 {
                // Either a fresh download or a server that ignored Range: start the file over.
                try handle.truncate(atOffset: 0)
                outcome.startOffset = 0
                outcome.hash = SHA256()
            } else {
                try handle.truncate(atOffset: UInt64(offset))
            }
            try handle.seekToEnd()
            self.handle = handle
            onResponse(outcome)
            return true
        } catch {
            outcome.writeError = error
            return false
        }
    }
}

/// `Content-Range: bytes 100-199/1000` (or `bytes */1000` on a 416 answer).
struct ContentRange: Equatable {
    var start: Int64?
    var end: Int64?
    var total: Int64?

    init?(_ header: String?) {
        guard let header = header?.trimmingCharacters(in: .whitespaces), header.lowercased().hasPrefix("bytes ") else { return nil }
        let spec = header.dropFirst("bytes ".count)
        let parts = spec.split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        total = Int64(parts[1].trimmingCharacters(in: .whitespaces))
        if parts[0] != "*" {
            let bounds = parts[0].split(separator: "-", maxSplits: 1)
            guard bounds.count == 2, let start = Int64(bounds[0]), let end = Int64(bounds[1]) else { return nil }
            self.start = start
            self.end = end
        }
    }
}

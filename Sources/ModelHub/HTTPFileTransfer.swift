import Foundation
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One HTTP GET streamed onto the end of a file on disk, resuming with a `Range` request.
///
/// The body never sits in memory as a whole: each chunk URLSession delivers is appended to the
/// file and fed to a running SHA-256 before the next one is taken. Redirects are followed (the
/// hub redirects large files to its CDN), carrying the `Range` header along, and the headers of
/// each redirect response are kept: the hub puts a large file's SHA-256 (`X-Linked-Etag`) and size
/// (`X-Linked-Size`) on its redirect, not on the CDN's final answer.
final class HTTPFileTransfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
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

    private let url: URL
    private let file: URL
    private let offset: Int64
    private let onResponse: @Sendable (Outcome) -> Void
    private let onBytes: @Sendable (Int64) -> Void
    private var handle: FileHandle?
    private var outcome = Outcome()
    private let finished = DispatchSemaphore(value: 0)

    /// Streams `url` onto `file`, asking for the bytes from `offset` on (the file's current size,
    /// whose hash is `hashOfExisting`). `onResponse` sees the outcome so far when a body starts
    /// arriving (200 or the asked-for 206); `onBytes` gets the file's size after each chunk. Blocks
    /// until the transfer ends; `idleTimeout` bounds the wait for each chunk.
    static func run(
        url: URL, file: URL, offset: Int64, hashOfExisting: SHA256, idleTimeout: TimeInterval,
        userAgent: String, onResponse: @escaping @Sendable (Outcome) -> Void,
        onBytes: @escaping @Sendable (Int64) -> Void
    ) -> Outcome {
        let transfer = HTTPFileTransfer(url: url, file: file, offset: offset, onResponse: onResponse, onBytes: onBytes)
        transfer.outcome.startOffset = offset
        transfer.outcome.hash = hashOfExisting
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = idleTimeout
        configuration.timeoutIntervalForResource = 7 * 24 * 3600
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1  // delegate calls one at a time, in order
        let session = URLSession(configuration: configuration, delegate: transfer, delegateQueue: queue)
        var request = URLRequest(url: url)
        request.httpMethod = "GET"
        transfer.prepare(&request)
        request.setValue(userAgent, forHTTPHeaderField: "User-Agent")
        session.dataTask(with: request).resume()
        transfer.finished.wait()
        session.finishTasksAndInvalidate()  // releases the delegate
        try? transfer.handle?.close()
        return transfer.outcome
    }

    private init(
        url: URL, file: URL, offset: Int64, onResponse: @escaping @Sendable (Outcome) -> Void,
        onBytes: @escaping @Sendable (Int64) -> Void
    ) {
        self.url = url
        self.file = file
        self.offset = offset
        self.onResponse = onResponse
        self.onBytes = onBytes
    }

    /// The headers every request of this transfer carries, redirects included.
    private func prepare(_ request: inout URLRequest) {
        if offset > 0 { request.setValue("bytes=\(offset)-", forHTTPHeaderField: "Range") }
        // Byte-exact bodies: a compressed answer would break sizes, ranges and checksums.
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
    }

    private static func lowercased(_ response: HTTPURLResponse) -> [String: String] {
        var headers: [String: String] = [:]
        for (key, value) in response.allHeaderFields {
            if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
        }
        return headers
    }

    // MARK: - URLSession delegate (called on the session's serial queue)

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        outcome.redirectHeaders.merge(Self.lowercased(response)) { _, new in new }
        var next = request
        prepare(&next)
        completionHandler(next)
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        guard let http = response as? HTTPURLResponse else {
            completionHandler(.cancel)
            return
        }
        outcome.status = http.statusCode
        outcome.headers = Self.lowercased(http)
        let partialContentFromOffset =
            http.statusCode == 206
            && ContentRange(outcome.headers["content-range"])?.start == offset
        guard http.statusCode == 200 || partialContentFromOffset else {
            completionHandler(.cancel)  // the caller decides from the status what to do
            return
        }
        do {
            let handle = try FileHandle(forWritingTo: file)
            if http.statusCode == 200 {
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
            completionHandler(.allow)
        } catch {
            outcome.writeError = error
            completionHandler(.cancel)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let handle, outcome.writeError == nil else { return }
        do {
            try handle.write(contentsOf: data)
            data.withUnsafeBytes { outcome.hash.update($0) }
            outcome.bytesWritten += Int64(data.count)
            onBytes(outcome.fileSize)
        } catch {
            outcome.writeError = error
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        outcome.error = error
        finished.signal()
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

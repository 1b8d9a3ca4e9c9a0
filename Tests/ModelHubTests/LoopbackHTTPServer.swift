// A tiny HTTP/1.1 server on 127.0.0.1 for download tests (shared by ModelHubTests and CLITests:
// Tests/CLITests/LoopbackHTTPServer.swift is a symbolic link to this file).
//
// It serves fixture bytes by path, answers `Range: bytes=N-` with 206 (or ignores it on request),
// can cut a response short to simulate a dropped connection, can redirect like the Hugging Face
// hub does, and records every request. It listens on the loopback address only, handles one
// connection at a time, closes each after one response, and stops by itself after `lifetime`
// seconds or `maxConnections` connections, whichever comes first.
import Foundation
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

final class LoopbackHTTPServer: @unchecked Sendable {
    /// How one path is answered.
    struct Route {
        var status = 200
        var body: [UInt8] = []
        /// Extra response headers (e.g. `ETag`, `X-Linked-Etag`, `Location`).
        var headers: [String: String] = [:]
        /// Answer `Range: bytes=N-` with 206 and the rest; false: always send everything with 200.
        var honoursRange = true
        /// Send only this many body bytes, then close the connection (Content-Length stays the full length).
        var cutAfter: Int?

        static func file(_ body: [UInt8], headers: [String: String] = [:], honoursRange: Bool = true, cutAfter: Int? = nil) -> Route {
            Route(status: 200, body: body, headers: headers, honoursRange: honoursRange, cutAfter: cutAfter)
        }

        /// A 302 to `location`, with the hub's `X-Linked-*` headers if given.
        static func redirect(to location: String, headers: [String: String] = [:]) -> Route {
            Route(status: 302, body: [], headers: headers.merging(["Location": location]) { $1 })
        }

        static func status(_ status: Int) -> Route {
            Route(status: status, body: Array("status \(status)\n".utf8))
        }
    }

    /// One request as received.
    struct Request: Equatable {
        var method: String
        var path: String
        /// Header names lowercased.
        var headers: [String: String]
    }

    let port: UInt16
    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    private let listener: Int32
    private let lock = NSLock()
    private var routes: [String: Route]
    private var log: [Request] = []
    private var stopRequested = false
    private let stopped = DispatchSemaphore(value: 0)

    /// Starts serving `routes` (path → answer; unknown paths get 404).
    init(routes: [String: Route] = [:], lifetime: TimeInterval = 120, maxConnections: Int = 500) throws {
        self.routes = routes
        let fd = socket(AF_INET, Self.streamType, 0)
        guard fd >= 0 else { throw ServerError.socket("socket", errno) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let code = errno
            close(fd)
            throw ServerError.socket("bind/listen", code)
        }
        listener = fd
        port = Self.boundPort(fd)
        let deadline = Date().addingTimeInterval(lifetime)
        let thread = Thread { [self] in
            serve(until: deadline, maxConnections: maxConnections)
            close(listener)
            stopped.signal()
        }
        thread.start()
    }

    deinit { stop() }

    /// Stops the server and waits for its thread to finish (idempotent).
    func stop() {
        lock.lock()
        let first = !stopRequested
        stopRequested = true
        lock.unlock()
        if first { stopped.wait() }
    }

    func setRoute(_ path: String, _ route: Route) {
        lock.lock()
        routes[path] = route
        lock.unlock()
    }

    /// Every request so far, oldest first.
    var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }

    /// A loopback port with nothing listening on it (bound, then released), for "unreachable" tests.
    static func unusedPort() throws -> UInt16 {
        let fd = socket(AF_INET, streamType, 0)
        guard fd >= 0 else { throw ServerError.socket("socket", errno) }
        defer { close(fd) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw ServerError.socket("bind", errno) }
        return boundPort(fd)
    }

    enum ServerError: Error { case socket(String, Int32) }

    // MARK: - Serving

    private func serve(until deadline: Date, maxConnections: Int) {
        var served = 0
        while served < maxConnections && Date() < deadline {
            lock.lock()
            let stop = stopRequested
            lock.unlock()
            if stop { return }
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }  // wake every 0.1 s to check for stop
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            served += 1
            handle(connection)
            close(connection)
        }
    }

    private func handle(_ connection: Int32) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        #if canImport(Darwin)
            var one: Int32 = 1
            setsockopt(connection, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        guard let request = readRequest(connection) else { return }
        lock.lock()
        log.append(request)
        let route = routes[request.path] ?? .status(404)
        lock.unlock()

        var status = route.status
        var body = route.body[...]
        var headers = route.headers
        if status == 200, route.honoursRange, let start = Self.rangeStart(request.headers["range"]) {
            if start >= route.body.count {
                status = 416
                body = []
                headers["Content-Range"] = "bytes */\(route.body.count)"
            } else {
                status = 206
                body = route.body[start...]
                headers["Content-Range"] = "bytes \(start)-\(route.body.count - 1)/\(route.body.count)"
            }
        }
        headers["Content-Length"] = "\(body.count)"
        headers["Connection"] = "close"
        var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        guard sendAll(connection, Array(head.utf8)[...]) else { return }
        if request.method == "HEAD" { return }
        if let cut = route.cutAfter { body = body.prefix(cut) }
        _ = sendAll(connection, body)
        shutdown(connection, Int32(SHUT_WR))
    }

    /// Reads up to the end of the headers (requests here have no body).
    private func readRequest(_ connection: Int32) -> Request? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while data.count < 65_536 {
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return nil }
            data += buffer[0..<count]
            if data.count >= 4, (0...(data.count - 4)).contains(where: { Array(data[$0..<($0 + 4)]) == end }) { break }
        }
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        let parts = lines.first?.split(separator: " ") ?? []
        guard parts.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let path = String(parts[1].split(separator: "?", maxSplits: 1).first ?? parts[1])
        return Request(method: String(parts[0]), path: path, headers: headers)
    }

    /// Writes all of `bytes`; false if the client went away.
    private func sendAll(_ connection: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let sent = bytes[offset...].withUnsafeBytes { buffer in
                send(connection, buffer.baseAddress, buffer.count, Self.noSignal)
            }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    /// `bytes=N-` or `bytes=N-M` → N (the server always sends to the end).
    private static func rangeStart(_ header: String?) -> Int? {
        guard let header, header.hasPrefix("bytes=") else { return nil }
        let spec = header.dropFirst("bytes=".count)
        guard let dash = spec.firstIndex(of: "-") else { return nil }
        return Int(spec[..<dash])
    }

    private static func reason(_ status: Int) -> String {
        [
            200: "OK", 206: "Partial Content", 302: "Found", 404: "Not Found", 416: "Range Not Satisfiable",
            500: "Internal Server Error"
        ][status] ?? "Status"
    }

    // MARK: - Sockets

    private static var streamType: Int32 {
        #if canImport(Glibc)
            return Int32(SOCK_STREAM.rawValue)
        #else
            return SOCK_STREAM
        #endif
    }

    /// A client that hangs up must not kill the test process with SIGPIPE.
    private static var noSignal: Int32 {
        #if canImport(Glibc)
            return Int32(MSG_NOSIGNAL)
        #else
            return 0  // Darwin: SO_NOSIGPIPE is set on each connection instead
        #endif
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        #if canImport(Darwin)
            address.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
        #endif
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)  // 127.0.0.1
        return address
    }

    private static func boundPort(_ fd: Int32) -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }
}

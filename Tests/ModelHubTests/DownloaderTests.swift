import Foundation
import ModelHub
import XCTest

/// Downloads against LoopbackHTTPServer on 127.0.0.1: the real hub is never contacted.
final class DownloaderTests: XCTestCase {
    /// Deterministic fixture bytes that are not a repeating pattern.
    static func bytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }

    let config = Array(#"{"model_type": "gpt2"}"#.utf8)
    let weights = DownloaderTests.bytes(200_000)

    /// A model of three hub files, like a GPT-2 folder: a small file, a large file and an optional one.
    func entry(weightsSize: Int64? = nil, weightsSHA256: String? = nil) -> CatalogEntry {
        CatalogEntry(
            name: "tiny", repo: "test/tiny", family: "gpt2", summary: "test model", approximateBytes: 200_000,
            files: [
                CatalogFile(name: "config.json", source: .hub(repo: "test/tiny", path: "config.json")),
                CatalogFile(
                    name: "model.safetensors", source: .hub(repo: "test/tiny", path: "model.safetensors"),
                    size: weightsSize, sha256: weightsSHA256),
                CatalogFile(name: "tokenizer.json", source: .hub(repo: "test/tiny", path: "tokenizer.json"), optional: true)
            ])
    }

    static let configPath = "/test/tiny/resolve/main/config.json"
    static let weightsPath = "/test/tiny/resolve/main/model.safetensors"

    /// Collects events from the downloader's thread.
    final class Events: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [DownloadEvent] = []
        func append(_ event: DownloadEvent) { lock.lock(); list.append(event); lock.unlock() }
        var all: [DownloadEvent] { lock.lock(); defer { lock.unlock() }; return list }
        var finished: [String: Bool] {
            var result: [String: Bool] = [:]
            for case .finished(let file, _, _, let verified) in all { result[file] = verified }
            return result
        }
    }

    func downloader(_ scratch: Scratch, _ server: LoopbackHTTPServer?, endpoint: URL? = nil, events: Events = Events()) -> Downloader {
        Downloader(
            locations: ModelLocations(environment: scratch.environment), endpoint: endpoint ?? server!.baseURL,
            idleTimeout: 20, onEvent: { events.append($0) })
    }

    func testFullDownloadFollowsTheHubRedirectAndVerifiesTheChecksum() throws {
        let scratch = try Scratch()
        let sha = SHA256.hex(weights)
        // Like the hub: the large file redirects to a blob store, with its sha256 and size on the redirect.
        let server = try LoopbackHTTPServer(routes: [
            Self.configPath: .file(config, headers: ["ETag": "\"0123456789abcdef0123456789abcdef01234567\""]),
            Self.weightsPath: .redirect(to: "/blobs/\(sha)", headers: ["X-Linked-Etag": "\"\(sha)\"", "X-Linked-Size": "\(weights.count)"]),
            "/blobs/\(sha)": .file(weights)
        ])
        defer { server.stop() }
        let events = Events()
        let result = try downloader(scratch, server, events: events).download(entry())

        XCTAssertFalse(result.alreadyPresent)
        XCTAssertEqual(result.folder.path, scratch.url("lantern/models/tiny").path)
        XCTAssertEqual(try Data(contentsOf: result.folder.appendingPathComponent("model.safetensors")), Data(weights))
        XCTAssertEqual(try Data(contentsOf: result.folder.appendingPathComponent("config.json")), Data(config))
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: result.folder.path).sorted(), ["config.json", "model.safetensors"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.url("lantern/models/tiny.partial").path))
        // The weights were checked against the hub's sha256; config.json's ETag is a git hash, not a sha256.
        XCTAssertEqual(events.finished, ["config.json": false, "model.safetensors": true])
        XCTAssertTrue(events.all.contains(.skipped(file: "tokenizer.json", reason: "optional, and the server does not have it")))
        XCTAssertTrue(
            events.all.contains(
                .started(
                    file: "model.safetensors", url: server.baseURL.appendingPathComponent(Self.weightsPath),
                    expectedBytes: Int64(weights.count), resumingAt: 0)))
        XCTAssertEqual(server.requests.filter { $0.path.hasPrefix("/blobs/") }.count, 1)
        XCTAssertTrue(server.requests.allSatisfy { $0.headers["accept-encoding"] == "identity" })

        // A second run finds the model and fetches nothing.
        let before = server.requests.count
        XCTAssertTrue(try downloader(scratch, server).download(entry()).alreadyPresent)
        XCTAssertEqual(server.requests.count, before)
        // The locator now finds it by name.
        let located = ModelLocator(locations: ModelLocations(environment: scratch.environment)).locate("tiny")
        XCTAssertEqual(located?.origin, .lantern)
    }

    func testAnInterruptedTransferResumesWhereItStopped() throws {
        let scratch = try Scratch()
        let sha = SHA256.hex(weights)
        let blob = "/blobs/\(sha)"
        let server = try LoopbackHTTPServer(routes: [
            Self.configPath: .file(config),
            // Like the hub: a redirect to the blob store, whose connection drops after 70,000 of 200,000 bytes.
            Self.weightsPath: .redirect(to: blob, headers: ["X-Linked-Etag": "\"\(sha)\"", "X-Linked-Size": "\(weights.count)"]),
            blob: .file(weights, cutAfter: 70_000)
        ])
        defer { server.stop() }
        XCTAssertThrowsError(try downloader(scratch, server).download(entry())) { error in
            guard case ModelHubError.interrupted(let file, let received, let expected, _) = error else {
                return XCTFail("expected an interruption, got \(error)")
            }
            XCTAssertEqual(file, "model.safetensors")
            XCTAssertEqual(received, 70_000)
            XCTAssertEqual(expected, Int64(weights.count))
            XCTAssertTrue("\(error)".contains("run the same command again to resume"), "\(error)")
        }
        // No model folder yet; what arrived is kept in the staging folder.
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.url("lantern/models/tiny").path))
        let partial = scratch.url("lantern/models/tiny.partial/model.safetensors.partial")
        XCTAssertEqual(try Data(contentsOf: partial), Data(weights.prefix(70_000)))
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch.url("lantern/models/tiny.partial/config.json").path))

        // The connection is back: the next run asks only for the rest.
        server.setRoute(blob, .file(weights))
        let events = Events()
        let result = try downloader(scratch, server, events: events).download(entry())
        XCTAssertEqual(try Data(contentsOf: result.folder.appendingPathComponent("model.safetensors")), Data(weights))
        // The Range header goes to the hub and is carried over the redirect to the blob store.
        XCTAssertEqual(server.requests.filter { $0.path == Self.weightsPath }.map { $0.headers["range"] }, [nil, "bytes=70000-"])
        XCTAssertEqual(server.requests.filter { $0.path == blob }.map { $0.headers["range"] }, [nil, "bytes=70000-"])
        XCTAssertEqual(server.requests.filter { $0.path == Self.configPath }.count, 1, "config.json was complete: not fetched again")
        XCTAssertTrue(events.all.contains(.skipped(file: "config.json", reason: "already downloaded")))
        XCTAssertTrue(
            events.all.contains(
                .started(
                    file: "model.safetensors", url: server.baseURL.appendingPathComponent(Self.weightsPath),
                    expectedBytes: Int64(weights.count), resumingAt: 70_000)))
        XCTAssertEqual(events.finished["model.safetensors"], true, "the resumed file's sha256 covers the reused part too")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.url("lantern/models/tiny.partial").path))
    }

    func testAServerThatIgnoresRangeIsDownloadedFromTheStart() throws {
        let scratch = try Scratch()
        let server = try LoopbackHTTPServer(routes: [
            Self.configPath: .file(config),
            Self.weightsPath: .file(weights, cutAfter: 50_000)
        ])
        defer { server.stop() }
        XCTAssertThrowsError(try downloader(scratch, server).download(entry()))
        server.setRoute(Self.weightsPath, .file(weights, honoursRange: false))
        let events = Events()
        let result = try downloader(scratch, server, events: events).download(entry(weightsSHA256: SHA256.hex(weights)))
        XCTAssertEqual(try Data(contentsOf: result.folder.appendingPathComponent("model.safetensors")), Data(weights))
        XCTAssertTrue(events.all.contains(.restarted(file: "model.safetensors", reason: "the server ignored the Range request")))
        XCTAssertEqual(events.finished["model.safetensors"], true)
    }

    func testAPartialThatIsAlreadyCompleteIsVerifiedNotRefetched() throws {
        let scratch = try Scratch()
        // A run that stopped after the last byte but before the rename.
        try FileManager.default.createDirectory(at: scratch.url("lantern/models/tiny.partial"), withIntermediateDirectories: true)
        try Data(weights).write(to: scratch.url("lantern/models/tiny.partial/model.safetensors.partial"))
        let server = try LoopbackHTTPServer(routes: [Self.configPath: .file(config), Self.weightsPath: .file(weights)])
        defer { server.stop() }
        let result = try downloader(scratch, server).download(entry(weightsSHA256: SHA256.hex(weights)))
        XCTAssertEqual(try Data(contentsOf: result.folder.appendingPathComponent("model.safetensors")), Data(weights))
        XCTAssertEqual(server.requests.filter { $0.path == Self.weightsPath }.map { $0.headers["range"] }, ["bytes=200000-"])
    }

    func testAChecksumMismatchLeavesNoModelFolder() throws {
        let scratch = try Scratch()
        var corrupted = weights
        corrupted[123_456] ^= 0xFF
        let server = try LoopbackHTTPServer(routes: [
            Self.configPath: .file(config),
            // The hub says one sha256, the bytes have another.
            Self.weightsPath: .file(corrupted, headers: ["ETag": "\"\(SHA256.hex(weights))\""])
        ])
        defer { server.stop() }
        XCTAssertThrowsError(try downloader(scratch, server).download(entry())) { error in
            XCTAssertEqual(
                error as? ModelHubError,
                .checksumMismatch(file: "model.safetensors", expected: SHA256.hex(weights), found: SHA256.hex(corrupted)))
            XCTAssertTrue("\(error)".contains("failed its checksum"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.url("lantern/models/tiny").path))
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: scratch.url("lantern/models/tiny.partial/model.safetensors.partial").path),
            "the damaged bytes are not kept for resuming")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.url("lantern/models/tiny.partial/model.safetensors").path))
        XCTAssertNil(ModelLocator(locations: ModelLocations(environment: scratch.environment)).locate("tiny"))
    }

    /// With no published checksum, an HTML page served as model.safetensors (an error or sign-in
    /// page) is refused and not kept (it used to become the model's weights).
    func testAWebPageInsteadOfWeightsIsRefused() throws {
        let scratch = try Scratch()
        let page = Array("\n  <!DOCTYPE html><html><body>Sign in to continue</body></html>".utf8)
        let server = try LoopbackHTTPServer(routes: [Self.configPath: .file(config), Self.weightsPath: .file(page)])
        defer { server.stop() }
        XCTAssertThrowsError(try downloader(scratch, server).download(entry())) { error in
            XCTAssertEqual(error as? ModelHubError, .webPageInsteadOfFile(file: "model.safetensors"))
            XCTAssertTrue("\(error)".contains("sent a web page instead of model.safetensors"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.url("lantern/models/tiny").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.url("lantern/models/tiny.partial/model.safetensors").path))
    }

    /// With no published checksum, a config that is not JSON ("xxxx" from a misconfigured
    /// endpoint) is refused and not kept; it used to be saved as the model's config.
    func testAConfigThatIsNotJSONIsRefused() throws {
        let scratch = try Scratch()
        let server = try LoopbackHTTPServer(routes: [Self.configPath: .file(Array("xxxx".utf8)), Self.weightsPath: .file(weights)])
        defer { server.stop() }
        XCTAssertThrowsError(try downloader(scratch, server).download(entry())) { error in
            XCTAssertEqual(error as? ModelHubError, .malformedFile(file: "config.json", problem: #"it is not JSON; it begins "xxxx""#))
            XCTAssertTrue("\(error)".contains("the server sent something that is not config.json"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.url("lantern/models/tiny").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.url("lantern/models/tiny.partial/config.json").path))
    }

    func testAShortBodyIsASizeMismatch() throws {
        let scratch = try Scratch()
        // The server sends a complete, well-formed answer that is shorter than the catalog's size.
        let server = try LoopbackHTTPServer(routes: [Self.configPath: .file(config), Self.weightsPath: .file(Array(weights.prefix(1000)))])
        defer { server.stop() }
        XCTAssertThrowsError(try downloader(scratch, server).download(entry(weightsSize: Int64(weights.count)))) { error in
            XCTAssertEqual(error as? ModelHubError, .sizeMismatch(file: "model.safetensors", expected: Int64(weights.count), found: 1000))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.url("lantern/models/tiny").path))
    }

    func testAMissingRequiredFileIsAnHTTPError() throws {
        let scratch = try Scratch()
        let server = try LoopbackHTTPServer(routes: [Self.configPath: .file(config)])
        defer { server.stop() }
        XCTAssertThrowsError(try downloader(scratch, server).download(entry())) { error in
            guard case ModelHubError.httpStatus(let file, _, let status) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "model.safetensors")
            XCTAssertEqual(status, 404)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.url("lantern/models/tiny").path))
    }

    func testAnUnreachableEndpointIsAClearOneLineError() throws {
        let scratch = try Scratch()
        let port = try LoopbackHTTPServer.unusedPort()
        let endpoint = URL(string: "http://127.0.0.1:\(port)")!
        XCTAssertThrowsError(try downloader(scratch, nil, endpoint: endpoint).download(entry())) { error in
            guard case ModelHubError.unreachable(let host, _) = error else { return XCTFail("expected unreachable, got \(error)") }
            XCTAssertEqual(host, "127.0.0.1:\(port)")
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("cannot reach 127.0.0.1:\(port) ("), text)
            XCTAssertTrue(text.contains("check your internet connection") && text.contains("(set the model)"), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.url("lantern/models/tiny").path))
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: scratch.url("lantern/models/tiny.partial").path),
            "nothing arrived, so no staging folder is left behind")
    }

    func testForceReplacesAnExistingModelOnlyWhenTheNewOneIsComplete() throws {
        let scratch = try Scratch()
        try scratch.write("lantern/models/tiny/config.json", "old")
        let server = try LoopbackHTTPServer(routes: [Self.configPath: .file(config)])
        defer { server.stop() }
        // The new copy cannot complete: the old folder stays as it was.
        XCTAssertThrowsError(try downloader(scratch, server).download(entry(), force: true))
        XCTAssertEqual(try String(contentsOf: scratch.url("lantern/models/tiny/config.json"), encoding: .utf8), "old")
        server.setRoute(Self.weightsPath, .file(weights))
        let result = try downloader(scratch, server).download(entry(), force: true)
        XCTAssertEqual(try Data(contentsOf: result.folder.appendingPathComponent("config.json")), Data(config))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.url("lantern/models").path).sorted(), ["tiny"])
    }
}

/// A sentence encoder's folder has a file in a subfolder (`1_Pooling/config.json`).
final class SubfolderDownloadTests: XCTestCase {
    func testAFileInASubfolderIsFetchedIntoItsSubfolder() throws {
        let scratch = try Scratch()
        let pooling = Array(#"{"pooling_mode_mean_tokens": true}"#.utf8)
        let weights = DownloaderTests.bytes(5_000)
        let server = try LoopbackHTTPServer(routes: [
            "/test/encoder/resolve/main/config.json": .file(Array(#"{"model_type": "bert"}"#.utf8)),
            "/test/encoder/resolve/main/model.safetensors": .file(weights),
            "/test/encoder/resolve/main/1_Pooling/config.json": .file(pooling)
        ])
        defer { server.stop() }
        let entry = CatalogEntry(
            name: "encoder", repo: "test/encoder", family: "bert", summary: "test encoder", approximateBytes: 5_000,
            files: ["config.json", "model.safetensors", "1_Pooling/config.json"].map {
                CatalogFile(name: $0, source: .hub(repo: "test/encoder", path: $0))
            })
        let result = try Downloader(locations: ModelLocations(environment: scratch.environment), endpoint: server.baseURL, idleTimeout: 20)
            .download(entry)
        XCTAssertEqual(try Data(contentsOf: result.folder.appendingPathComponent("1_Pooling/config.json")), Data(pooling))
        XCTAssertEqual(try Data(contentsOf: result.folder.appendingPathComponent("model.safetensors")), Data(weights))
        // The catalog's all-MiniLM-L6-v2 lists its pooling files and pins its weights.
        let miniLM = try XCTUnwrap(ModelCatalog.builtIn.entry(named: "all-minilm-l6-v2"))
        XCTAssertEqual(miniLM.family, "bert")
        XCTAssertTrue(miniLM.files.contains { $0.name == "1_Pooling/config.json" && !$0.optional })
        XCTAssertEqual(miniLM.files.first { $0.name == "model.safetensors" }?.sha256?.count, 64)
        XCTAssertEqual(ModelCatalog.builtIn.entry(named: "sentence-transformers/all-MiniLM-L6-v2")?.name, "all-minilm-l6-v2")
    }

    /// The catalog's encoder–decoders (t5-small, flan-t5-small, bart-base, bart-large-mnli) fetch their config,
    /// weights and tokenizer.json, and their generation config where the repository has one: the
    /// real t5-small entry against a loopback hub that has no generation_config.json.
    func testAnEncoderDecoderEntryFetchesItsTokenizerAndOptionalGenerationConfig() throws {
        let scratch = try Scratch()
        let entry = try XCTUnwrap(ModelCatalog.builtIn.entry(named: "t5-small"))
        XCTAssertEqual(entry.family, "t5")
        XCTAssertEqual(ModelCatalog.builtIn.entry(named: "google/flan-t5-small")?.name, "flan-t5-small")
        XCTAssertEqual(ModelCatalog.builtIn.entry(named: "facebook/bart-base")?.family, "bart")
        let mnli = try XCTUnwrap(ModelCatalog.builtIn.entry(named: "facebook/bart-large-mnli"))
        XCTAssertEqual(mnli.name, "bart-large-mnli")
        XCTAssertEqual(mnli.files.map(\.name), entry.files.map(\.name), "the same files as every encoder–decoder")
        let weights = DownloaderTests.bytes(3_000)
        let base = "/google-t5/t5-small/resolve/main/"
        let server = try LoopbackHTTPServer(routes: [
            base + "config.json": .file(Array(#"{"model_type": "t5"}"#.utf8)),
            base + "model.safetensors": .file(weights),
            base + "tokenizer.json": .file(Array(#"{"model": {"type": "Unigram"}}"#.utf8))
        ])
        defer { server.stop() }
        let result = try Downloader(locations: ModelLocations(environment: scratch.environment), endpoint: server.baseURL, idleTimeout: 20)
            .download(entry)
        XCTAssertEqual(try Data(contentsOf: result.folder.appendingPathComponent("model.safetensors")), Data(weights))
        XCTAssertTrue(FileManager.default.fileExists(atPath: result.folder.appendingPathComponent("tokenizer.json").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: result.folder.appendingPathComponent("generation_config.json").path))
    }
}

import Foundation
import XCTest

/// `lantern download`, `lantern models` and `--model NAME`, run as a user would, against
/// LoopbackHTTPServer on 127.0.0.1 (the real hub is never contacted) and a fake Hugging Face cache.
final class ModelHubCommandTests: XCTestCase {
    /// The tiny GPT-2 fixture: the same four files as a hub GPT-2 folder.
    static let fixture = CLI.fixtures.appendingPathComponent("gpt2-bytes-noprefix")
    static let files = ["config.json", "model.safetensors", "vocab.json", "merges.txt"]

    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-cli-hub-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    /// Every folder ModelHub looks at points into the scratch folder.
    var environment: [String: String] {
        [
            "HOME": scratch.appendingPathComponent("home").path,
            "LANTERN_HOME": scratch.appendingPathComponent("lantern").path,
            "HF_HOME": scratch.appendingPathComponent("hf").path,
            "HF_HUB_CACHE": scratch.appendingPathComponent("hf/hub").path,
            "HF_ENDPOINT": ""
        ]
    }

    /// The fixture served where the hub keeps openai-community/gpt2 (tokenizer.json: 404, it is optional).
    func gpt2Server(weightHeaders: [String: String] = [:]) throws -> LoopbackHTTPServer {
        var routes: [String: LoopbackHTTPServer.Route] = [:]
        for file in Self.files {
            let bytes = try [UInt8](Data(contentsOf: Self.fixture.appendingPathComponent(file)))
            routes["/openai-community/gpt2/resolve/main/\(file)"] = .file(bytes, headers: file == "model.safetensors" ? weightHeaders : [:])
        }
        return try LoopbackHTTPServer(routes: routes)
    }

    func testDownloadThenUseTheModelByName() throws {
        let server = try gpt2Server()
        defer { server.stop() }
        let download = try CLI.run(["download", "gpt2", "--endpoint", server.baseURL.absoluteString], environment: environment)
        XCTAssertEqual(download.exitCode, 0, download.stderr)
        let folder = scratch.appendingPathComponent("lantern/models/gpt2")
        XCTAssertEqual(download.stdout, "saved gpt2 to \(folder.path)\n")
        // Standard error is not a terminal here: plain progress lines, no carriage returns.
        XCTAssertTrue(
            download.stderr.contains(
                "model.safetensors (481.6 kB): downloading from \(server.baseURL.absoluteString)/openai-community/gpt2/resolve/main/model.safetensors"
            ), download.stderr)
        XCTAssertTrue(download.stderr.contains("tokenizer.json: skipped (optional, and the server does not have it)"), download.stderr)
        XCTAssertFalse(download.stderr.contains("\r"))
        for file in Self.files {
            XCTAssertEqual(
                try Data(contentsOf: folder.appendingPathComponent(file)), try Data(contentsOf: Self.fixture.appendingPathComponent(file)),
                file)
        }

        let tokenize = try CLI.run(["tokenize", "Hi there", "--model", "gpt2", "--json"], environment: environment)
        XCTAssertEqual(tokenize.exitCode, 0, tokenize.stderr)
        XCTAssertEqual((try CLI.json(tokenize.stdout)["pieces"] as? [String])?.joined(), "Hi␣there")
        let info = try CLI.run(["info", "--model", "gpt2", "--json"], environment: environment)
        XCTAssertEqual(try CLI.json(info.stdout)["source"] as? String, folder.path)

        let models = try CLI.run(["models"], environment: environment)
        XCTAssertEqual(models.exitCode, 0, models.stderr)
        XCTAssertTrue(models.stdout.contains("  gpt2  gpt2    "), models.stdout)
        XCTAssertTrue(models.stdout.contains("GPT-2 small, 124M parameters (downloaded)"), models.stdout)
        XCTAssertTrue(
            models.stdout.contains("stories15M, stories42M, stories110M: tokenizer.bin comes from github.com/karpathy/llama2.c"),
            models.stdout)
        let json = try CLI.json(CLI.run(["models", "--json"], environment: environment).stdout)
        let local = try XCTUnwrap(json["local"] as? [[String: Any]])
        XCTAssertEqual(local.map { $0["name"] as? String }, ["gpt2"])
        XCTAssertEqual(local.first?["origin"] as? String, "lantern")
        XCTAssertEqual(local.first?["family"] as? String, "gpt2")
        XCTAssertEqual(
            local.first?["bytes"] as? Int,
            try Self.files.map {
                try FileManager.default.attributesOfItem(atPath: Self.fixture.appendingPathComponent($0).path)[.size] as! Int
            }.reduce(0, +))
        XCTAssertEqual((json["downloadable"] as? [[String: Any]])?.count, 15)

        // Once there, it is not fetched again.
        let requests = server.requests.count
        let again = try CLI.run(
            ["download", "openai-community/gpt2", "--endpoint", server.baseURL.absoluteString], environment: environment)
        XCTAssertEqual(again.exitCode, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("gpt2 is already in"), again.stdout)
        XCTAssertEqual(server.requests.count, requests)
    }

    func testAChecksumMismatchFailsAndLeavesNoModel() throws {
        // The served weights do not have the sha256 the (fake) hub announces; HF_ENDPOINT points at it.
        let server = try gpt2Server(weightHeaders: ["ETag": "\"\(String(repeating: "0", count: 64))\""])
        defer { server.stop() }
        var environment = self.environment
        environment["HF_ENDPOINT"] = server.baseURL.absoluteString
        let run = try CLI.run(["download", "gpt2"], environment: environment)
        XCTAssertNotEqual(run.exitCode, 0)
        XCTAssertTrue(run.stderr.contains("model.safetensors failed its checksum"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("lantern/models/gpt2").path))
        let models = try CLI.run(["models", "--json"], environment: environment)
        XCTAssertEqual((try CLI.json(models.stdout)["local"] as? [Any])?.count, 0)
    }

    func testWithoutANetworkTheErrorIsOneClearLine() throws {
        let port = try LoopbackHTTPServer.unusedPort()
        let run = try CLI.run(["download", "distilgpt2", "--endpoint", "http://127.0.0.1:\(port)"], environment: environment)
        XCTAssertNotEqual(run.exitCode, 0)
        let errorLines = run.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }
        XCTAssertEqual(errorLines.count, 1, run.stderr)
        let line = String(errorLines.first ?? "")
        XCTAssertTrue(line.contains("cannot reach 127.0.0.1:\(port)"), line)
        XCTAssertTrue(line.contains("check your internet connection") && line.contains("(set --model)"), line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("lantern/models/distilgpt2").path))
    }

    func testAModelNameFromTheHuggingFaceCache() throws {
        // The cache as huggingface_hub leaves it: blobs, and a snapshot of links to them.
        let repo = scratch.appendingPathComponent("hf/hub/models--openai-community--gpt2")
        let snapshot = repo.appendingPathComponent("snapshots/0123abcd")
        try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("blobs"), withIntermediateDirectories: true)
        for (index, file) in Self.files.enumerated() {
            try FileManager.default.copyItem(
                at: Self.fixture.appendingPathComponent(file), to: repo.appendingPathComponent("blobs/blob\(index)"))
            try FileManager.default.createSymbolicLink(
                atPath: snapshot.appendingPathComponent(file).path, withDestinationPath: "../../blobs/blob\(index)")
        }
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("refs"), withIntermediateDirectories: true)
        try Data("0123abcd".utf8).write(to: repo.appendingPathComponent("refs/main"))

        let info = try CLI.run(["info", "--model", "gpt2", "--json"], environment: environment)
        XCTAssertEqual(info.exitCode, 0, info.stderr)
        XCTAssertEqual(try CLI.json(info.stdout)["source"] as? String, snapshot.path)
        let models = try CLI.run(["models"], environment: environment)
        XCTAssertTrue(models.stdout.contains("openai-community/gpt2  gpt2"), models.stdout)

        // A catalog model that is not here says how to get it.
        let missing = try CLI.run(["info", "--model", "gpt2-medium"], environment: environment)
        XCTAssertNotEqual(missing.exitCode, 0)
        XCTAssertTrue(missing.stderr.contains("model gpt2-medium is not on this machine"), missing.stderr)
        XCTAssertTrue(missing.stderr.contains("lantern download gpt2-medium"), missing.stderr)
    }

    func testAnUnknownNameIsRefusedWithTheChoices() throws {
        let run = try CLI.run(["download", "gpt5"], environment: environment)
        XCTAssertNotEqual(run.exitCode, 0)
        XCTAssertTrue(run.stderr.contains("no downloadable model named gpt5"), run.stderr)
        XCTAssertTrue(run.stderr.contains("gpt2, distilgpt2, gpt2-medium"), run.stderr)
        let help = try CLI.run(["download", "--help"])
        XCTAssertTrue(help.stdout.contains("lantern download gpt2"), help.stdout)
    }
}

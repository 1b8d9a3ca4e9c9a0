import Foundation
import ModelHub
import XCTest

/// A scratch folder for one test, removed afterwards.
final class Scratch {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-hub-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    /// Writes `text` to `path`, making the folders on the way.
    @discardableResult
    func write(_ path: String, _ text: String) throws -> URL {
        let url = self.url(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url
    }

    /// The environment the tests hand to ModelHub: every folder inside the scratch folder.
    var environment: [String: String] {
        ["HOME": url("home").path, "LANTERN_HOME": url("lantern").path, "HF_HOME": url("hf").path]
    }

    /// A Hugging Face cache entry as `huggingface_hub` lays it out: files are blobs, snapshots link to them.
    func cacheSnapshot(
        hub: String = "hf/hub", repo: String, revision: String, files: [String: String],
        main: Bool = true
    ) throws -> URL {
        let repoFolder = "\(hub)/models--\(repo.replacingOccurrences(of: "/", with: "--"))"
        for (name, content) in files {
            let blob = SHA256.hex(Array(content.utf8))
            try write("\(repoFolder)/blobs/\(blob)", content)
            let link = url("\(repoFolder)/snapshots/\(revision)/\(name)")
            try FileManager.default.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: link)
            try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "../../blobs/\(blob)")
        }
        if main { try write("\(repoFolder)/refs/main", revision) }
        return url("\(repoFolder)/snapshots/\(revision)")
    }
}

let gpt2Config = #"{"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_layer": 12}"#

final class CatalogTests: XCTestCase {
    func testNamesAndRepositoryIdsFindTheirEntries() throws {
        let catalog = ModelCatalog.builtIn
        XCTAssertEqual(
            catalog.names,
            [
                "gpt2", "distilgpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt-neo-125m", "gpt-neo-1.3B",
                "stories15M", "stories42M", "stories110M", "all-minilm-l6-v2", "t5-small", "flan-t5-small", "bart-base", "bart-large-mnli"
            ])
        XCTAssertEqual(catalog.entry(named: "gpt2")?.repo, "openai-community/gpt2")
        XCTAssertEqual(catalog.entry(named: "openai-community/gpt2")?.name, "gpt2")
        XCTAssertEqual(catalog.entry(named: "OpenAI-Community/GPT2")?.name, "gpt2")
        XCTAssertEqual(catalog.entry(named: "distilgpt2")?.repo, "distilbert/distilgpt2")
        XCTAssertEqual(catalog.entry(named: "distilbert/distilgpt2")?.name, "distilgpt2")
        XCTAssertEqual(catalog.entry(named: "gpt2-xl")?.hubRepositories, ["openai-community/gpt2-xl", "gpt2-xl"])
        XCTAssertEqual(catalog.entry(named: "stories42M")?.repo, "karpathy/tinyllamas")
        // One repository, three models: the repository id alone names none of them.
        XCTAssertNil(catalog.entry(named: "karpathy/tinyllamas"))
        XCTAssertNil(catalog.entry(named: "gpt3"))
        // What `download` suggests next fits the model: a classifier is not asked to generate.
        for entry in catalog.entries { XCTAssertTrue(entry.firstCommand.contains("--model \(entry.name)"), entry.firstCommand) }
        XCTAssertTrue(catalog.entry(named: "bart-large-mnli")!.firstCommand.hasPrefix("lantern classify"))
        XCTAssertTrue(catalog.entry(named: "all-minilm-l6-v2")!.firstCommand.hasPrefix("lantern embed"))
        XCTAssertTrue(catalog.entry(named: "stories15M")!.firstCommand.hasPrefix("lantern generate"))
    }

    func testGPT2EntriesListTheFilesLanternLoads() throws {
        for name in ["gpt2", "distilgpt2", "gpt2-medium", "gpt2-large", "gpt2-xl"] {
            let entry = try XCTUnwrap(ModelCatalog.builtIn.entry(named: name))
            XCTAssertEqual(entry.family, "gpt2")
            XCTAssertEqual(entry.files.map(\.name), ["config.json", "model.safetensors", "vocab.json", "merges.txt", "tokenizer.json"])
            XCTAssertEqual(entry.files.filter(\.optional).map(\.name), ["tokenizer.json"])
            for file in entry.files { XCTAssertEqual(file.source, .hub(repo: entry.repo, path: file.name)) }
            XCTAssertGreaterThan(entry.approximateBytes, 300_000_000)
        }
    }

    func testTinyStoriesEntriesBringTheLlama2cTokenizerFromGitHub() throws {
        let entry = try XCTUnwrap(ModelCatalog.builtIn.entry(named: "stories15M"))
        XCTAssertEqual(entry.family, "llama")
        XCTAssertEqual(entry.llama2cCheckpoint, "stories15M.bin")
        XCTAssertEqual(entry.files[0].source, .hub(repo: "karpathy/tinyllamas", path: "stories15M.bin"))
        // 28-byte header + 15,204,000 float32 values (weights and RoPE tables of dim 288, 6 layers, 32000 tokens).
        XCTAssertEqual(entry.files[0].size, 60_816_028)
        let tokenizer = entry.files[1]
        XCTAssertEqual(tokenizer.name, "tokenizer.bin")
        XCTAssertEqual(tokenizer.source, .url(URL(string: "https://raw.githubusercontent.com/karpathy/llama2.c/master/tokenizer.bin")!))
        XCTAssertEqual(tokenizer.sha256?.count, 64)
        XCTAssertNotNil(entry.note)
    }

    func testHubURLsFollowTheEndpoint() throws {
        let locations = ModelLocations(lanternModels: URL(fileURLWithPath: "/tmp/m"), huggingFaceHubCache: URL(fileURLWithPath: "/tmp/h"))
        let file = CatalogFile(name: "config.json", source: .hub(repo: "openai-community/gpt2", path: "config.json"))
        XCTAssertEqual(
            Downloader(locations: locations).url(for: file).absoluteString,
            "https://huggingface.co/openai-community/gpt2/resolve/main/config.json")
        let local = Downloader(locations: locations, endpoint: URL(string: "http://127.0.0.1:8080/")!)
        XCTAssertEqual(local.url(for: file).absoluteString, "http://127.0.0.1:8080/openai-community/gpt2/resolve/main/config.json")
        // Files outside the hub keep their own address.
        let tokenizer = try XCTUnwrap(ModelCatalog.builtIn.entry(named: "stories15M")?.files[1])
        XCTAssertEqual(local.url(for: tokenizer), ModelCatalog.llama2cTokenizerURL)
    }

    func testEndpointComesFromTheOptionThenHFEndpoint() throws {
        XCTAssertEqual(try Downloader.endpoint(option: nil, environment: [:]), Downloader.defaultEndpoint)
        XCTAssertEqual(
            try Downloader.endpoint(option: nil, environment: ["HF_ENDPOINT": "https://hf-mirror.example"]).absoluteString,
            "https://hf-mirror.example")
        XCTAssertEqual(
            try Downloader.endpoint(option: "http://127.0.0.1:9", environment: ["HF_ENDPOINT": "https://x.example"]).absoluteString,
            "http://127.0.0.1:9")
        XCTAssertThrowsError(try Downloader.endpoint(option: "ftp://example", environment: [:]))
    }
}

final class LocationsTests: XCTestCase {
    func testFoldersFromTheEnvironment() {
        let defaults = ModelLocations(environment: ["HOME": "/home/ada"])
        XCTAssertEqual(defaults.lanternModels.path, "/home/ada/.lantern/models")
        XCTAssertEqual(defaults.huggingFaceHubCache.path, "/home/ada/.cache/huggingface/hub")

        let xdg = ModelLocations(environment: ["HOME": "/home/ada", "XDG_CACHE_HOME": "/cache"])
        XCTAssertEqual(xdg.huggingFaceHubCache.path, "/cache/huggingface/hub")
        let hfHome = ModelLocations(environment: ["HOME": "/home/ada", "XDG_CACHE_HOME": "/cache", "HF_HOME": "/hf"])
        XCTAssertEqual(hfHome.huggingFaceHubCache.path, "/hf/hub")
        let legacy = ModelLocations(environment: ["HOME": "/home/ada", "HF_HOME": "/hf", "HUGGINGFACE_HUB_CACHE": "/old"])
        XCTAssertEqual(legacy.huggingFaceHubCache.path, "/old")
        let hubCache = ModelLocations(environment: [
            "HOME": "/home/ada", "HF_HOME": "/hf", "HUGGINGFACE_HUB_CACHE": "/old",
            "HF_HUB_CACHE": "/hub"
        ])
        XCTAssertEqual(hubCache.huggingFaceHubCache.path, "/hub")
        let lantern = ModelLocations(environment: ["HOME": "/home/ada", "LANTERN_HOME": "~/lantern"])
        XCTAssertEqual(lantern.lanternModels.path, "/home/ada/lantern/models")
        XCTAssertEqual(ModelLocations.display(lantern.lanternModels, environment: ["HOME": "/home/ada"]), "~/lantern/models")
        XCTAssertEqual(lantern.huggingFaceFolder(forRepo: "openai-community/gpt2").lastPathComponent, "models--openai-community--gpt2")
    }
}

final class LocatorTests: XCTestCase {
    func testModelNamesAreToldApartFromPaths() {
        for name in ["gpt2", "gpt2-xl", "openai-community/gpt2", "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "stories15M"] {
            XCTAssertTrue(ModelLocator.isModelName(name), name)
        }
        for path in ["", "./gpt2", "../models/gpt2", "/models/gpt2", "~/gpt2", "a/b/c", "a//b", "gpt 2", ".hidden"] {
            XCTAssertFalse(ModelLocator.isModelName(path), path)
        }
    }

    func testAHuggingFaceCacheSnapshotIsFoundByShortAndFullName() throws {
        let scratch = try Scratch()
        let snapshot = try scratch.cacheSnapshot(
            repo: "openai-community/gpt2", revision: "607a30d783dfa663caf39e06633721c8d4cfcd7e",
            files: ["config.json": gpt2Config, "model.safetensors": "weights"])
        let locator = ModelLocator(locations: ModelLocations(environment: scratch.environment))
        for name in ["gpt2", "openai-community/gpt2"] {
            let model = try XCTUnwrap(locator.locate(name), name)
            XCTAssertEqual(model.origin, .huggingFaceCache)
            XCTAssertEqual(model.folder.path, snapshot.path)
            XCTAssertEqual(model.loadPath.path, snapshot.path)
            XCTAssertEqual(model.family, "gpt2")
            XCTAssertEqual(model.revision, "607a30d783dfa663caf39e06633721c8d4cfcd7e")
        }
        XCTAssertNil(locator.locate("distilgpt2"))
        XCTAssertNil(locator.locate("gpt2-medium"))
    }

    func testLegacyCacheFoldersAndOtherRepositories() throws {
        let scratch = try Scratch()
        let legacy = try scratch.cacheSnapshot(repo: "distilgpt2", revision: "aaaa", files: ["config.json": gpt2Config])
        let other = try scratch.cacheSnapshot(
            repo: "someone/tiny-llama", revision: "bbbb",
            files: ["config.json": #"{"model_type": "llama"}"#])
        let locator = ModelLocator(locations: ModelLocations(environment: scratch.environment))
        XCTAssertEqual(locator.locate("distilgpt2")?.folder.path, legacy.path)
        XCTAssertEqual(locator.locate("distilbert/distilgpt2")?.folder.path, legacy.path)
        XCTAssertEqual(locator.locate("someone/tiny-llama")?.folder.path, other.path)
        XCTAssertEqual(locator.locate("someone/tiny-llama")?.family, "llama")
        // Repository ids are case-insensitive on the hub.
        XCTAssertEqual(locator.locate("Someone/Tiny-Llama")?.folder.path, other.path)
    }

    func testRefsMainPicksTheSnapshotElseTheNewest() throws {
        let scratch = try Scratch()
        let old = try scratch.cacheSnapshot(repo: "openai-community/gpt2", revision: "1111", files: ["config.json": gpt2Config])
        let new = try scratch.cacheSnapshot(
            repo: "openai-community/gpt2", revision: "2222", files: ["config.json": gpt2Config],
            main: false)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000)], ofItemAtPath: old.path)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 2_000_000)], ofItemAtPath: new.path)
        let locator = ModelLocator(locations: ModelLocations(environment: scratch.environment))
        XCTAssertEqual(locator.locate("gpt2")?.revision, "1111", "refs/main names 1111")
        try FileManager.default.removeItem(at: scratch.url("hf/hub/models--openai-community--gpt2/refs/main"))
        XCTAssertEqual(locator.locate("gpt2")?.revision, "2222", "without refs/main the newest snapshot wins")
        // refs/main naming a snapshot that is gone falls back to the newest too.
        try scratch.write("hf/hub/models--openai-community--gpt2/refs/main", "9999\n")
        XCTAssertEqual(locator.locate("gpt2")?.revision, "2222")
    }

    func testHFHubCacheOverridesHFHome() throws {
        let scratch = try Scratch()
        _ = try scratch.cacheSnapshot(hub: "hf/hub", repo: "openai-community/gpt2", revision: "home", files: ["config.json": gpt2Config])
        _ = try scratch.cacheSnapshot(
            hub: "elsewhere", repo: "openai-community/gpt2", revision: "hubcache", files: ["config.json": gpt2Config])
        var environment = scratch.environment
        XCTAssertEqual(ModelLocator(locations: ModelLocations(environment: environment)).locate("gpt2")?.revision, "home")
        environment["HF_HUB_CACHE"] = scratch.url("elsewhere").path
        XCTAssertEqual(ModelLocator(locations: ModelLocations(environment: environment)).locate("gpt2")?.revision, "hubcache")
    }

    func testLanternsFolderComesFirstAndLlama2cFoldersLoadTheirCheckpoint() throws {
        let scratch = try Scratch()
        _ = try scratch.cacheSnapshot(repo: "openai-community/gpt2", revision: "cafe", files: ["config.json": gpt2Config])
        try scratch.write("lantern/models/gpt2/config.json", gpt2Config)
        try scratch.write("lantern/models/stories15M/stories15M.bin", "checkpoint")
        try scratch.write("lantern/models/stories15M/tokenizer.bin", "tokenizer")
        // A download in progress is not a model.
        try scratch.write("lantern/models/gpt2-xl.partial/config.json", gpt2Config)
        let locator = ModelLocator(locations: ModelLocations(environment: scratch.environment))

        let gpt2 = try XCTUnwrap(locator.locate("gpt2"))
        XCTAssertEqual(gpt2.origin, .lantern)
        XCTAssertEqual(gpt2.folder.path, scratch.url("lantern/models/gpt2").path)
        // The full repository id means the same catalog model, so Lantern's copy is used for it too.
        XCTAssertEqual(locator.locate("openai-community/gpt2")?.origin, .lantern)

        let stories = try XCTUnwrap(locator.locate("stories15M"))
        XCTAssertEqual(stories.loadPath.path, scratch.url("lantern/models/stories15M/stories15M.bin").path)
        XCTAssertEqual(stories.family, "llama")
        XCTAssertNil(locator.locate("gpt2-xl"))
        XCTAssertNil(locator.locate("../lantern"))
    }

    func testAGivenCheckpointIsNotStandInForAnother() throws {
        let scratch = try Scratch()
        _ = try scratch.cacheSnapshot(repo: "karpathy/tinyllamas", revision: "r1", files: ["stories42M.bin": "42M"])
        let locator = ModelLocator(locations: ModelLocations(environment: scratch.environment))
        XCTAssertNil(locator.locate("stories15M"))
        let found = try XCTUnwrap(locator.locate("stories42M"))
        XCTAssertEqual(found.loadPath.lastPathComponent, "stories42M.bin")
        XCTAssertEqual(found.origin, .huggingFaceCache)
    }

    func testLocalModelsListsBothPlacesWithFamiliesAndSizes() throws {
        let scratch = try Scratch()
        _ = try scratch.cacheSnapshot(
            repo: "openai-community/gpt2", revision: "cafe",
            files: ["config.json": gpt2Config, "model.safetensors": String(repeating: "w", count: 1000)])
        try scratch.write("lantern/models/stories15M/stories15M.bin", String(repeating: "c", count: 300))
        try scratch.write("lantern/models/stories15M/tokenizer.bin", String(repeating: "t", count: 20))
        try scratch.write("lantern/models/gpt2.partial/config.json", gpt2Config)
        try scratch.write("lantern/models/notes.txt", "not a model")
        let locator = ModelLocator(locations: ModelLocations(environment: scratch.environment))
        let models = locator.localModels()
        XCTAssertEqual(models.map(\.name), ["stories15M", "openai-community/gpt2"])
        XCTAssertEqual(models.map(\.origin), [.lantern, .huggingFaceCache])
        XCTAssertEqual(models.map(\.family), ["llama", "gpt2"])
        XCTAssertEqual(ModelLocator.size(of: models[0].folder), 320)
        // Snapshot files are links to blobs: the size is the blobs'.
        XCTAssertEqual(ModelLocator.size(of: models[1].folder), Int64(1000 + gpt2Config.utf8.count))
    }

    func testResolvingTheModelArgument() throws {
        let scratch = try Scratch()
        let snapshot = try scratch.cacheSnapshot(repo: "openai-community/gpt2", revision: "cafe", files: ["config.json": gpt2Config])
        let environment = scratch.environment
        // A path that exists wins, even when it looks like a name.
        let existing = try scratch.write("gpt2/config.json", gpt2Config).deletingLastPathComponent().path
        XCTAssertEqual(try ModelHub.resolveModelArgument(existing, environment: environment), existing)
        XCTAssertEqual(try ModelHub.resolveModelArgument("gpt2", environment: environment), snapshot.path)
        // A catalog model that is not here: a clear error with the command to get it.
        XCTAssertThrowsError(try ModelHub.resolveModelArgument("gpt2-medium", environment: environment)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("lantern download gpt2-medium"), text)
            XCTAssertTrue(text.contains("~/.cache/huggingface/hub") == false, text)
            XCTAssertTrue(text.contains(scratch.url("hf/hub").path), text)
        }
        // Anything else goes on unchanged, for the model loader to report.
        XCTAssertEqual(try ModelHub.resolveModelArgument("no-such-model", environment: environment), "no-such-model")
        XCTAssertEqual(try ModelHub.resolveModelArgument("./missing/folder", environment: environment), "./missing/folder")
    }
}

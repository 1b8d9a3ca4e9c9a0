import Foundation
import XCTest

/// scripts/install.sh lays out a copy that works without the checkout: installed from the build the
/// tests use (`--from`), run from an empty folder with every fallback into the checkout forbidden
/// (LANTERN_IGNORE_CHECKOUT=1), it generates, runs a lesson, draws a picture and says its version.
final class InstallTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-install-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func install(prefix: URL) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [
            CLI.repository.appendingPathComponent("scripts/install.sh").path, "--prefix", prefix.path,
            "--from", CLI.executable.deletingLastPathComponent().path
        ]
        let log = scratch.appendingPathComponent("install-\(UUID()).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, try String(contentsOf: log, encoding: .utf8))
    }

    func testAnInstalledCopyWorksWithoutTheCheckout() throws {
        let prefix = scratch.appendingPathComponent("prefix")
        let installed = try install(prefix: prefix)
        XCTAssertEqual(installed.status, 0, installed.output)
        let lantern = prefix.appendingPathComponent("bin/lantern")
        let share = prefix.appendingPathComponent("share")
        for file in [
            "lantern/models/lantern-tiny/config.json", "lantern/lessons/manifest.json", "lantern/commit",
            "bash-completion/completions/lantern", "zsh/site-functions/_lantern", "fish/vendor_completions.d/lantern.fish"
        ] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: share.appendingPathComponent(file).path), file)
        }
        let away = scratch.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: away, withIntermediateDirectories: true)
        let alone = ["LANTERN_IGNORE_CHECKOUT": "1", "LANTERN_HOME": scratch.appendingPathComponent("home").path]
        func run(_ arguments: [String]) throws -> LanternRun {
            try CLI.run(arguments, environment: alone, in: away, executable: lantern)
        }
        let version = try run(["--version"])
        XCTAssertEqual(version.exitCode, 0, version.stderr)
        XCTAssertTrue(version.stdout.hasPrefix("0."), version.stdout)
        XCTAssertTrue(version.stdout.contains("commit "), version.stdout)

        let generated = try run(["generate", "Once upon a time", "--greedy", "--max-new-tokens", "6"])
        XCTAssertEqual(generated.exitCode, 0, generated.stderr)
        XCTAssertTrue(generated.stdout.hasPrefix("Once upon a time"), generated.stdout)
        let info = try run(["info"])
        XCTAssertTrue(info.stdout.contains(share.appendingPathComponent("lantern/models/lantern-tiny").path), info.stdout)

        let lesson = try run(["lesson", "1", "--auto"])
        XCTAssertEqual(lesson.exitCode, 0, lesson.stderr)
        XCTAssertTrue(lesson.stdout.contains("End of lesson 1"), lesson.stdout)

        let picture = try run(["attention", "Mia saw a red ball", "--layer", "0", "--head", "0", "--out", "a.png"])
        XCTAssertEqual(picture.exitCode, 0, picture.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: away.appendingPathComponent("a.png").path))

        // Without the installed models, the copy says so: the fallback into the checkout is off.
        try FileManager.default.removeItem(at: share.appendingPathComponent("lantern/models"))
        let missing = try run(["generate", "Hi"])
        XCTAssertNotEqual(missing.exitCode, 0)
        XCTAssertTrue(missing.stderr.contains("the built-in model lantern-tiny is not in this build"), missing.stderr)
    }

    /// A share/lantern folder the script did not make is left alone.
    func testAForeignShareFolderIsRefusedAndLeftAlone() throws {
        let prefix = scratch.appendingPathComponent("prefix")
        let foreign = prefix.appendingPathComponent("share/lantern")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: foreign.appendingPathComponent("notes.txt"))
        let installed = try install(prefix: prefix)
        XCTAssertNotEqual(installed.status, 0)
        XCTAssertTrue(installed.output.contains("was not made by this script"), installed.output)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: foreign.path), ["notes.txt"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: prefix.appendingPathComponent("bin/lantern").path))

        // Another program called lantern in the prefix is left alone too.
        let other = scratch.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try Data("#!/bin/sh\n".utf8).write(to: other.appendingPathComponent("bin/lantern"))
        let refused = try install(prefix: other)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("was not installed by this script"), refused.output)
        XCTAssertEqual(try Data(contentsOf: other.appendingPathComponent("bin/lantern")), Data("#!/bin/sh\n".utf8))
    }
}

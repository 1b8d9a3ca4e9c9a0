import Foundation
import Tensors
import XCTest

/// Whole files or nothing, and never a device or pipe swapped for a plain file (writing
/// `--out /dev/full` as root used to rename a plain file over the device node).
final class AtomicFileTests: XCTestCase {
    var scratch: URL!
    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    func kind(_ path: String) -> mode_t {
        var info = stat()
        XCTAssertEqual(lstat(path, &info), 0, path)
        return info.st_mode & S_IFMT
    }

    func testWritesReplacesAndLeavesNoTemporaryFiles() throws {
        let url = scratch.appendingPathComponent("new/sub/file.txt")
        try AtomicFile.write(Data("one".utf8), to: url)
        try AtomicFile.write(Data("two".utf8), to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "two")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path), ["file.txt"])
    }

    func testALinkIsFollowedAndKept() throws {
        let target = scratch.appendingPathComponent("target.txt"), link = scratch.appendingPathComponent("link.txt")
        try Data("old".utf8).write(to: target)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        try AtomicFile.write(Data("new".utf8), to: link)
        XCTAssertEqual(kind(link.path), S_IFLNK, "the link is still a link")
        XCTAssertEqual(try String(contentsOf: target, encoding: .utf8), "new")
        // A dangling link is refused and kept (it was replaced by a plain file).
        let dangling = scratch.appendingPathComponent("dangling.txt")
        try FileManager.default.createSymbolicLink(atPath: dangling.path, withDestinationPath: scratch.appendingPathComponent("gone").path)
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: dangling)) { error in
            XCTAssertTrue("\(error)".contains("symbolic link to something that does not exist"), "\(error)")
        }
        XCTAssertEqual(kind(dangling.path), S_IFLNK)
    }

    func testDevicesAreWrittenIntoNeverReplaced() throws {
        try AtomicFile.write(Data("discarded".utf8), to: URL(fileURLWithPath: "/dev/null"))
        XCTAssertEqual(kind("/dev/null"), S_IFCHR)
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: URL(fileURLWithPath: "/dev/full"))) { error in
            XCTAssertEqual((error as? AtomicFile.Failure)?.reason, "no space left on device", "\(error)")
        }
        XCTAssertEqual(kind("/dev/full"), S_IFCHR, "/dev/full is still the device")
    }

    func testAPipeNobodyReadsIsAnErrorNotAHang() throws {
        let fifo = scratch.appendingPathComponent("pipe")
        XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: fifo)) { error in
            XCTAssertTrue("\(error)".contains("a pipe that nobody is reading"), "\(error)")
        }
        XCTAssertEqual(kind(fifo.path), S_IFIFO)
    }

    func testFoldersAndBlockedPathsAreRefusedByName() throws {
        XCTAssertThrowsError(try AtomicFile.write(Data(), to: scratch)) { error in
            XCTAssertTrue("\(error)".contains("it is a folder"), "\(error)")
        }
        let blocker = scratch.appendingPathComponent("blocker")
        try Data("x".utf8).write(to: blocker)
        XCTAssertThrowsError(try AtomicFile.write(Data(), to: blocker.appendingPathComponent("a/b.txt"))) { error in
            XCTAssertTrue("\(error)".contains("\(blocker.path) is a file, not a folder"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path), ["blocker"])
    }

    /// Files written together: all replaced, or (when one cannot be written) none touched.
    func testFilesWrittenTogetherChangeTogether() throws {
        let a = scratch.appendingPathComponent("vocab.json"), b = scratch.appendingPathComponent("merges.txt")
        try AtomicFile.writeTogether([(Data("a1".utf8), a), (Data("b1".utf8), b)])
        XCTAssertEqual(try String(contentsOf: a, encoding: .utf8), "a1")
        XCTAssertEqual(try String(contentsOf: b, encoding: .utf8), "b1")

        // The second destination is a folder: the first must keep its old contents.
        let folder = scratch.appendingPathComponent("taken")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        XCTAssertThrowsError(try AtomicFile.writeTogether([(Data("a2".utf8), a), (Data("x".utf8), folder)])) { error in
            XCTAssertTrue("\(error)".contains("it is a folder"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOf: a, encoding: .utf8), "a1")
        XCTAssertEqual(
            Set(try FileManager.default.contentsOfDirectory(atPath: scratch.path)), ["vocab.json", "merges.txt", "taken"],
            "no temporary file is left behind")
    }
}

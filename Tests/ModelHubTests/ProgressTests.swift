import Foundation
import ModelHub
import XCTest

final class ProgressTests: XCTestCase {
    func testFormatting() {
        XCTAssertEqual(ByteCount.format(999), "999 B")
        XCTAssertEqual(ByteCount.format(548_105_171), "548.1 MB")
        XCTAssertEqual(ByteCount.format(6_431_829_964), "6.4 GB")
        XCTAssertEqual(DownloadProgress.duration(7), "0:07")
        XCTAssertEqual(DownloadProgress.duration(754), "12:34")
        XCTAssertEqual(DownloadProgress.duration(3723), "1:02:03")
        XCTAssertEqual(DownloadProgress.duration(.infinity), "--:--")
        XCTAssertEqual(DownloadProgress.bar(fraction: 0, width: 10), "[>         ]")
        XCTAssertEqual(DownloadProgress.bar(fraction: 0.5, width: 10), "[#####>    ]")
        XCTAssertEqual(DownloadProgress.bar(fraction: 1, width: 10), "[##########]")
        XCTAssertEqual(
            DownloadProgress.barLine(file: "model.safetensors", received: 250_000_000, expected: 500_000_000, bytesPerSecond: 10_000_000),
            "model.safetensors  [############>           ]   50%  250.0 MB / 500.0 MB  10.0 MB/s  ETA 0:25")
        XCTAssertEqual(DownloadProgress.barLine(file: "x", received: 1500, expected: nil, bytesPerSecond: nil), "x  1.5 kB  --")
        XCTAssertEqual(
            DownloadProgress.plainLine(file: "x", received: 300, expected: 1000, bytesPerSecond: 100),
            "x: 30% (300 B of 1.0 kB, 100 B/s, ETA 0:07)")
    }

    /// Collects what the display writes.
    final class Output: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        var clock = 0.0
        func write(_ piece: String) { lock.lock(); text += piece; lock.unlock() }
        var all: String { lock.lock(); defer { lock.unlock() }; return text }
    }

    func testPlainLinesWhenNotATerminal() {
        let output = Output()
        let progress = DownloadProgress(isTerminal: false, write: { output.write($0) }, now: { output.clock })
        let url = URL(string: "http://127.0.0.1:1/m/resolve/main/w")!
        progress.handle(.started(file: "w", url: url, expectedBytes: 1000, resumingAt: 0))
        for step in 1...20 {
            output.clock = Double(step)
            progress.handle(.progress(file: "w", receivedBytes: Int64(step * 50)))
        }
        progress.handle(.finished(file: "w", bytes: 1000, sha256: String(repeating: "ab", count: 32), sha256Verified: true))
        let lines = output.all.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "w (1.0 kB): downloading from \(url.absoluteString)")
        // One line per 10 % step between the start and the end line, never a carriage return.
        XCTAssertEqual(lines.count, 1 + 9 + 1, output.all)
        XCTAssertEqual(lines[1], "w: 10% (100 B of 1.0 kB, 50 B/s, ETA 0:18)")
        XCTAssertEqual(lines.last, "w: 1.0 kB done, 50 B/s, sha256 verified (abababababab…)")
        XCTAssertFalse(output.all.contains("\r"))
    }

    func testABarRedrawnInPlaceOnATerminal() {
        let output = Output()
        let progress = DownloadProgress(isTerminal: true, write: { output.write($0) }, now: { output.clock })
        progress.handle(.started(file: "w", url: URL(string: "http://127.0.0.1:1/w")!, expectedBytes: 1000, resumingAt: 400))
        output.clock = 1
        progress.handle(.progress(file: "w", receivedBytes: 700))
        output.clock = 1.01  // too soon to redraw
        progress.handle(.progress(file: "w", receivedBytes: 710))
        progress.handle(.finished(file: "w", bytes: 1000, sha256: String(repeating: "0", count: 64), sha256Verified: false))
        let text = output.all
        XCTAssertTrue(text.hasPrefix("w: resuming at 400 B\n\rw  [#########>"), text)
        XCTAssertTrue(text.contains("70%  700 B / 1.0 kB  300 B/s  ETA 0:01\u{1B}[K"), text)
        XCTAssertFalse(text.contains("71%"), text)
        // The summary line replaces the bar.
        XCTAssertTrue(
            text.hasSuffix("ETA 0:01\u{1B}[K\rw: 1.0 kB done, 594 B/s, size checked (no published checksum) (000000000000…)\u{1B}[K\n"),
            text)
    }
}

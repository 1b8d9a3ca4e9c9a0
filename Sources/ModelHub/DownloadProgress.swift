import Foundation
import Tensors

/// Turns download events into a progress display: on a terminal, one bar redrawn in place
/// (bytes, percent, speed, time left); otherwise plain lines at the start, every 10 % and the end,
/// so logs stay readable.
///
///     model.safetensors  [#########>          ]  45%  246.6 MB / 548.1 MB  12.3 MB/s  ETA 0:24
public final class DownloadProgress: @unchecked Sendable {
    private let isTerminal: Bool
    private let write: @Sendable (String) -> Void
    private let now: @Sendable () -> Double
    private let lock = NSLock()

    // The file in flight.
    private var file = ""
    private var expected: Int64?
    private var startedAt = 0.0
    private var startBytes: Int64 = 0
    private var lastBytes: Int64 = 0
    /// (time, bytes) samples of the last few seconds, for the speed.
    private var samples: [(Double, Int64)] = []
    private var lastDraw = -Double.infinity
    private var lastDecile = -1
    private let line: ProgressLine

    /// `write` receives text exactly as it should appear (terminal control characters included);
    /// `now` is a clock in seconds (injectable for tests).
    public init(
        isTerminal: Bool, write: @escaping @Sendable (String) -> Void,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSinceReferenceDate }
    ) {
        self.isTerminal = isTerminal
        self.write = write
        self.now = now
        line = ProgressLine(isTerminal: isTerminal, write: write)
    }

    /// A display that writes to standard error, as a bar when standard error is a terminal.
    public static func standardError() -> DownloadProgress {
        DownloadProgress(isTerminal: isatty(STDERR_FILENO) == 1) { text in
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    public func handle(_ event: DownloadEvent) {
        lock.lock()
        defer { lock.unlock() }
        let time = now()
        switch event {
        case .started(let name, let url, let expectedBytes, let resumingAt):
            endBar()
            file = name
            expected = expectedBytes
            startedAt = time
            startBytes = resumingAt
            lastBytes = resumingAt
            samples = [(time, resumingAt)]
            lastDecile = -1
            lastDraw = -Double.infinity
            let size = expectedBytes.map { " (\(ByteCount.format($0)))" } ?? ""
            let resume = resumingAt > 0 ? ", resuming at \(ByteCount.format(resumingAt))" : ""
            if !isTerminal {
                write("\(name)\(size): downloading from \(url.absoluteString)\(resume)\n")
            } else if resumingAt > 0 {
                write("\(name): resuming at \(ByteCount.format(resumingAt))\n")
            }
            draw(at: time, force: true)
        case .progress(let name, let received):
            guard name == file else { return }
            lastBytes = received
            samples.append((time, received))
            while samples.count > 2, time - samples[1].0 >= 5 { samples.removeFirst() }  // keep ~5 s
            draw(at: time, force: false)
        case .checkingPartial(let name, let bytes):
            endBar()
            if bytes >= 100_000_000 { write("\(name): reading the \(ByteCount.format(bytes)) kept from the last run…\n") }
        case .restarted(let name, let reason):
            endBar()
            write("\(name): starting over (\(reason))\n")
        case .finished(let name, let bytes, let sha256, let verified):
            let check = verified ? "sha256 verified" : "size checked (no published checksum)"
            let seconds = max(time - startedAt, 0)
            let transferred = name == file ? bytes - startBytes : 0
            let speed = seconds > 0 && transferred > 0 ? ", \(ByteCount.format(Int64(Double(transferred) / seconds)))/s" : ""
            let line = "\(name): \(ByteCount.format(bytes)) done\(speed), \(check) (\(sha256.prefix(12))…)"
            self.line.replace(with: line)  // the summary replaces the bar
            file = ""
        case .skipped(let name, let reason):
            endBar()
            write("\(name): skipped (\(reason))\n")
        }
    }

    /// Ends an in-place bar with a newline (e.g. before an error message).
    public func finishLine() {
        lock.lock()
        defer { lock.unlock() }
        endBar()
    }

    private func endBar() { line.end() }

    private func draw(at time: Double, force: Bool) {
        guard !file.isEmpty else { return }
        let speed = Self.speed(samples)
        if isTerminal {
            guard force || time - lastDraw >= 0.1 else { return }  // at most ten redraws a second
            lastDraw = time
            line.draw(Self.barLine(file: file, received: lastBytes, expected: expected, bytesPerSecond: speed))
        } else {
            guard let expected, expected > 0 else { return }
            let decile = Int(min(lastBytes * 10 / expected, 10))
            guard decile > lastDecile else { return }
            let first = lastDecile < 0
            lastDecile = decile
            if first || decile == 10 { return }  // the start and end lines say those
            write(Self.plainLine(file: file, received: lastBytes, expected: expected, bytesPerSecond: speed) + "\n")
        }
    }

    // MARK: - Formatting (pure, so tests can check it)

    /// Bytes per second over the samples (oldest to newest); nil until there is some time between them.
    static func speed(_ samples: [(Double, Int64)]) -> Double? {
        guard let first = samples.first, let last = samples.last, last.0 - first.0 > 0.05 else { return nil }
        return Double(last.1 - first.1) / (last.0 - first.0)
    }

    public static func bar(fraction: Double, width: Int = 24) -> String { ProgressLine.bar(fraction: fraction, width: width) }
    public static func duration(_ seconds: Double) -> String { ProgressLine.duration(seconds) }

    /// The terminal bar: name, bar, percent, bytes, speed, time left.
    public static func barLine(file: String, received: Int64, expected: Int64?, bytesPerSecond: Double?) -> String {
        let rate = bytesPerSecond.map { "\(ByteCount.format(Int64($0)))/s" } ?? "--"
        guard let expected, expected > 0 else {
            return "\(file)  \(ByteCount.format(received))  \(rate)"
        }
        let fraction = Double(received) / Double(expected)
        let eta = bytesPerSecond.flatMap { $0 > 0 ? duration(Double(expected - received) / $0) : nil } ?? "--:--"
        return "\(file)  \(bar(fraction: fraction))  \(String(format: "%3d", Int(fraction * 100)))%  "
            + "\(ByteCount.format(received)) / \(ByteCount.format(expected))  \(rate)  ETA \(eta)"
    }

    /// A plain progress line for logs.
    public static func plainLine(file: String, received: Int64, expected: Int64, bytesPerSecond: Double?) -> String {
        let percent = Int(Double(received) / Double(max(expected, 1)) * 100)
        var line = "\(file): \(percent)% (\(ByteCount.format(received)) of \(ByteCount.format(expected))"
        if let rate = bytesPerSecond, rate > 0 {
            line += ", \(ByteCount.format(Int64(rate)))/s, ETA \(duration(Double(expected - received) / rate))"
        }
        return line + ")"
    }
}

import Foundation

/// The one progress display of every long job (downloads, training, tokenizer training, export):
/// on a terminal a single line on standard error, redrawn in place (`\r`, then erase to the end of
/// the line), cleared before other output and ended with a newline; elsewhere it draws nothing,
/// and the job prints plain lines now and then so logs stay short.
public final class ProgressLine: @unchecked Sendable {
    public let isTerminal: Bool
    private let write: @Sendable (String) -> Void
    private var shown = false

    /// `write` receives text exactly as it should appear (for tests); by default standard error,
    /// drawn only when it is a terminal.
    public init(
        isTerminal: Bool = isatty(STDERR_FILENO) == 1,
        write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.isTerminal = isTerminal
        self.write = write
    }

    /// Redraws the line (terminals only).
    public func draw(_ text: String) {
        guard isTerminal else { return }
        write("\r" + text + "\u{1B}[K")
        shown = true
    }

    /// Erases the line so other output can take its place; the next `draw` brings it back.
    public func clear() {
        if shown { write("\r\u{1B}[K") }
        shown = false
    }

    /// Replaces the line with a finished summary and moves on to the next line.
    public func replace(with summary: String) {
        if shown { write("\r" + summary + "\u{1B}[K\n") } else { write(summary + "\n") }
        shown = false
    }

    /// Leaves the line as it is and moves below it.
    public func end() {
        if shown { write("\n") }
        shown = false
    }

    // MARK: - Pieces of a line

    /// `[#########>          ]` for a fraction in 0…1.
    public static func bar(fraction: Double, width: Int = 24) -> String {
        let clamped = min(max(fraction, 0), 1)
        let filled = Int((clamped * Double(width)).rounded(.down))
        if filled >= width { return "[" + String(repeating: "#", count: width) + "]" }
        return "[" + String(repeating: "#", count: filled) + ">" + String(repeating: " ", count: width - filled - 1) + "]"
    }

    /// `0:07`, `12:34`, `1:02:03`; `--:--` when unknown.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let total = Int(seconds.rounded())
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }
}

/// Merges done while a BPE tokenizer trains (`train-tokenizer`, and `train` with `--vocab-size`):
/// a bar on a terminal, redrawn when the percentage changes.
public final class MergeProgress: @unchecked Sendable {
    private let line = ProgressLine()
    private let label: String
    private var shownPercent = -1

    public init(label: String) { self.label = label }

    public func show(done: Int, total: Int) {
        guard line.isTerminal else { return }
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let percent = Int(fraction * 100)
        guard percent != shownPercent else { return }
        shownPercent = percent
        line.draw("\(label) \(ProgressLine.bar(fraction: fraction)) \(done)/\(total) merges")
    }

    /// Erases the bar (the caller prints the result).
    public func end() { line.clear() }
}

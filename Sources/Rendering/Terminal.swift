import Foundation

/// How to colour terminal output: 24-bit colour, the 256-colour palette, or none
/// (`NO_COLOR` set, `TERM=dumb`, or output that is not a terminal).
public enum TerminalColor: Sendable, Equatable {
    case trueColor, palette256, none

    /// Decides from the environment and whether standard output is a terminal.
    public static func detect(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        isTerminal: Bool = isatty(STDOUT_FILENO) == 1
    ) -> TerminalColor {
        if environment["NO_COLOR"].map({ !$0.isEmpty }) ?? false { return .none }
        let term = environment["TERM"] ?? ""
        if !isTerminal || term == "dumb" || term.isEmpty { return .none }
        let colorTerm = environment["COLORTERM"] ?? ""
        return colorTerm.contains("truecolor") || colorTerm.contains("24bit") ? .trueColor : .palette256
    }
}

/// Small building blocks for terminal pictures: coloured cells, probability bars, bold text.
/// With `.none` everything degrades to plain characters that still carry the information.
public struct TerminalPainter: Sendable {
    public var color: TerminalColor

    public init(color: TerminalColor) { self.color = color }

    /// `text` on a background of `rgb` (with readable foreground), or `text` as is without colour.
    public func background(_ text: String, _ rgb: RGB) -> String {
        switch color {
        case .none: return text
        case .trueColor:
            let fg = rgb.isLight ? "30" : "97"
            return "\u{1B}[\(fg);48;2;\(rgb.r);\(rgb.g);\(rgb.b)m\(text)\u{1B}[0m"
        case .palette256:
            let fg = rgb.isLight ? "30" : "97"
            return "\u{1B}[\(fg);48;5;\(Self.paletteIndex(rgb))m\(text)\u{1B}[0m"
        }
    }

    /// `text` in the colour `rgb`.
    public func foreground(_ text: String, _ rgb: RGB) -> String {
        switch color {
        case .none: return text
        case .trueColor: return "\u{1B}[38;2;\(rgb.r);\(rgb.g);\(rgb.b)m\(text)\u{1B}[0m"
        case .palette256: return "\u{1B}[38;5;\(Self.paletteIndex(rgb))m\(text)\u{1B}[0m"
        }
    }

    public func bold(_ text: String) -> String {
        color == .none ? text : "\u{1B}[1m\(text)\u{1B}[0m"
    }

    public func dim(_ text: String) -> String {
        color == .none ? text : "\u{1B}[2m\(text)\u{1B}[0m"
    }

    /// A horizontal bar of `width` cells for a value in 0…1, in eighths of a cell (█▉▊▋▌▍▎▏).
    /// Without colour the same blocks are used; with `ascii` it is drawn with `#`.
    public static func bar(_ fraction: Float, width: Int, ascii: Bool = false) -> String {
        let clamped = min(max(fraction.isFinite ? fraction : 0, 0), 1)
        let eighths = Int((clamped * Float(width * 8)).rounded())
        if ascii { return String(repeating: "#", count: (eighths + 4) / 8).padding(toLength: width, withPad: " ", startingAt: 0) }
        let partials = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        let full = String(repeating: "█", count: eighths / 8) + partials[eighths % 8]
        return full + String(repeating: " ", count: max(0, width - full.count))
    }

    /// The nearest entry of the xterm 256-colour cube (16 + 36r + 6g + b).
    static func paletteIndex(_ rgb: RGB) -> Int {
        func level(_ v: UInt8) -> Int { v < 48 ? 0 : v < 115 ? 1 : (Int(v) - 35) / 40 }
        return 16 + 36 * level(rgb.r) + 6 * level(rgb.g) + level(rgb.b)
    }
}

/// Shortens and pads a token piece to exactly `width` columns (… marks a cut).
public func fitted(_ text: String, width: Int) -> String {
    if text.count <= width { return text.padding(toLength: width, withPad: " ", startingAt: 0) }
    return String(text.prefix(max(1, width - 1))) + "…"
}

/// How wide terminal text may be: `COLUMNS` when set, else the terminal's own width when standard
/// output is one, else 80.
public enum TerminalWidth {
    public static func columns(
        environment: [String: String] = ProcessInfo.processInfo.environment, terminalColumns: () -> Int? = ofStandardOutput
    ) -> Int {
        environment["COLUMNS"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.flatMap { $0 > 0 ? $0 : nil }
            ?? terminalColumns() ?? 80
    }

    /// The width of the terminal on standard output (TIOCGWINSZ); nil when it is not a terminal.
    public static func ofStandardOutput() -> Int? {
        guard isatty(STDOUT_FILENO) == 1 else { return nil }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// `text` wrapped at spaces into lines of at most `width` characters, later lines indented by
    /// `indent` (a word longer than a line is left whole).
    public static func wrap(_ text: String, width: Int, indent: String = "  ") -> [String] {
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let candidate = current.isEmpty ? String(word) : current + " " + word
            if candidate.count > width, !current.trimmingCharacters(in: .whitespaces).isEmpty {
                lines.append(current)
                current = indent + word
            } else {
                current = candidate
            }
        }
        return lines + [current]
    }
}

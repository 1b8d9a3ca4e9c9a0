import Foundation

// MARK: - The lesson format
//
// A lesson folder holds `manifest.json` and one numbered Markdown file per lesson. Markdown is
// printed for the terminal (see the end of this comment); four kinds of fenced block are special
// (everything else, ```sh included, is ordinary Markdown):
//
//   ```lantern                  a real `lantern` command, run as the learner would type it
//   tokenize "Mia found the ball." --json        ← the command (a leading `lantern` is optional)
//   capture: count = json ids.count              ← remember a value from its output (repeatable)
//   input: q                                     ← a line for the command's standard input (repeatable)
//   fresh: output/lesson-12                      ← remove this folder under output/ first (repeatable)
//   show: captures                               ← print only the captured values, not the output
//   needs: model all-minilm-l6-v2                ← run only where this model is here (else say so, skip)
//   ```
//
// Without a show: line the output is shown as it comes, except that a `--json` command's JSON is
// laid out short (one member per line, at most 12 lines, "… (N more lines)"); `show: all` prints
// it exactly as the command did. When several blocks run the same `info`, its table is printed
// the first time only (later ones say so and show their captures).
//
// The command is split like a shell would ("double" and 'single' quotes, backslash escapes);
// inside double quotes `\n` is a new line, so a prompt can hold several lines.
//
//   ```pause                    wait for Enter (the body, if any, is shown as the prompt)
//   ```
//
//   ```question choice          id, ask, `- option` lines, answer (number or letter), why
//   ```question number          id, ask, answer (a number or a {capture}), tolerance, why
//   ```question predict         id, ask, then run/capture/input/fresh/show: the command runs after the
//                               learner's prediction; answer is a {capture} from its output, why
//
// A capture is `NAME = json PATH` (dot path into the JSON the command printed: `ids.count`,
// `generated_ids.0`, `heads.-1.layer`), `NAME = regex PATTERN` (first group of the first match in
// everything it printed), `NAME = difference A B` (A − B), `NAME = compare A B` (higher, lower
// or equal) or `NAME = calc EXPRESSION` (+ − * / ^, parentheses, sqrt ln exp abs round, over
// numbers and earlier captures). `{NAME}` in a later command, question text or answer is replaced
// by the captured value, and so is `{NAME}` in the Markdown prose after the block that captures it
// (`The prompt became {count} tokens.`). `lantern lesson --check` flags a `{NAME}` in prose that no
// earlier block captures (were it run, it would be printed as it is). One value needs no capture:
// `{lessons}` is the lesson folder, for data files shipped beside the lessons.
//
// Prose is printed for the terminal: paragraphs and list items are wrapped again to its width
// (COLUMNS, else the terminal's own width, else 80; never more than 100), list items with a hanging
// indent; headings, tables, fenced and indented code are printed as written. `**strong**` is bold
// and `*emphasis*` underlined when colour is on (without colour the asterisks are dropped); a `*`
// inside a `code span` or with spaces around it (`a * b`) stays as it is.

/// The manifest: the format version, a welcome text and the lessons in order.
public struct LessonManifest: Sendable, Codable, Equatable {
    public static let supportedFormat = 1

    public struct Entry: Sendable, Codable, Equatable {
        public var id: String
        public var title: String
        public var file: String
        public var summary: String
        /// About how long the lesson takes.
        public var minutes: Int?

        public init(id: String, title: String, file: String, summary: String, minutes: Int? = nil) {
            self.id = id; self.title = title; self.file = file; self.summary = summary; self.minutes = minutes
        }
    }

    public var format: Int
    public var welcome: String?
    public var lessons: [Entry]
}

/// One problem found in lesson content, named by file and line (1-based; 0 when it has none).
public struct LessonIssue: Sendable, Equatable, CustomStringConvertible, Error {
    public var file: String
    public var line: Int
    public var problem: String

    public init(file: String, line: Int, problem: String) {
        self.file = file; self.line = line; self.problem = problem
    }

    public var description: String { line > 0 ? "\(file):\(line): \(problem)" : "\(file): \(problem)" }
}

/// How a value is taken from a command's output.
public enum CaptureRule: Sendable, Equatable {
    /// A dot path into the JSON the command printed on standard output.
    case json(path: [String])
    /// The first group (or the whole match) of the first match in everything it printed.
    case regex(String)
    /// A − B, both earlier captures holding numbers.
    case difference(String, String)
    /// "higher", "lower" or "equal": A against B.
    case compare(String, String)
    /// Arithmetic over numbers and earlier captures: `n * (n - 1) / 2`.
    case calc(Calc)

    /// The captures this rule reads.
    public var references: [String] {
        switch self {
        case .difference(let a, let b), .compare(let a, let b): [a, b]
        case .calc(let calc): calc.references
        default: []
        }
    }
}

public struct Capture: Sendable, Equatable {
    public var name: String
    public var rule: CaptureRule
    public var line: Int
}

/// A `lantern` command with what to feed it and what to remember from it.
public struct CommandStep: Sendable, Equatable {
    /// The words after `lantern`, as a shell would split them; may contain `{capture}` references.
    public var arguments: [String]
    public var captures: [Capture] = []
    public var input: [String] = []
    /// Folders under output/ removed before the command runs (so a lesson can be run again).
    public var fresh: [String] = []
    /// What the learner sees of the output (`show:`).
    public var show: OutputShown = .standard
    /// A model the command needs that may not be on the learner's machine (`needs: model NAME`):
    /// where `lantern info --model NAME` fails, the block is skipped with a note saying how to
    /// fetch it. Such a block captures nothing (later blocks could not rely on it).
    public var needsModel: String?
    public var line: Int

    /// false with `show: captures`: the output is long and only the captured values are shown.
    public var showOutput: Bool { show != .captures }
}

/// What a command's output looks like in the lesson.
public enum OutputShown: String, Sendable, Equatable {
    /// No `show:` line: everything, as it comes, except that the JSON of a `--json` command is
    /// laid out short (one member per line, at most 12 lines: see `CompactJSON`).
    case standard
    /// `show: all`: everything exactly as the command printed it.
    case all
    /// `show: captures`: only the captured values.
    case captures
}

public enum QuestionKind: String, Sendable, Equatable, CaseIterable {
    case choice, number, predict
}

public struct Question: Sendable, Equatable {
    public var kind: QuestionKind
    public var id: String
    public var ask: String
    /// Choice: the options in order.
    public var options: [String] = []
    /// Choice: the index of the right option; number/predict: a number or text, possibly `{capture}`.
    public var answer: String
    public var tolerance: Double = 0
    public var why: String
    /// Predict: the command that shows the answer, run after the learner's prediction.
    public var command: CommandStep?
    public var line: Int
}

public enum LessonBlock: Sendable, Equatable {
    /// Markdown prose, wrapped to the terminal and its `{captures}` filled in when printed.
    case text(String)
    case command(CommandStep)
    case pause(prompt: String?, line: Int)
    case question(Question)
}

public struct Lesson: Sendable, Equatable {
    public var file: String
    public var title: String
    public var blocks: [LessonBlock]

    public var questions: [Question] {
        blocks.compactMap { if case .question(let q) = $0 { q } else { nil } }
    }
}

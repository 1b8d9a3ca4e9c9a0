import ArgumentParser
import Foundation
import Tensors

/// The executable's entry: makes OpenBLAS use the kernels this CPU deserves (see `BLASCore`),
/// sets the process's memory policy (see `ProcessMemory`), names settings in messages by their
/// flags (see `UserSetting`), then runs the command.
@main
enum LanternEntry {
    static func main() {
        restartWithTheRightBLASCoreIfNeeded()
        ProcessMemory.keepFreedMemory()
        UserSetting.install(flagNames)
        runCommand()
    }

    /// The flags that set what library messages call "the capture list", "the model folder", …:
    /// a message from any module tells a command-line user which flag to change.
    static let flagNames: [UserSetting: String] = [
        .capture: "--capture", .layers: "--layers", .captureBudget: "--capture-budget", .maxNewTokens: "--max-new-tokens",
        .model: "--model", .tokenizer: "--tokenizer", .output: "--out", .traceFolder: "--trace", .weightFormat: "--weights",
        .context: "--context", .graphFormat: "--format", .scatterWords: "--tokens",
        .positions: "--positions", .positionScheme: "--scheme", .layerCount: "--layers", .headCount: "--heads", .width: "--width",
        .objective: "--objective", .vocabularySize: "--vocab-size", .steps: "--steps", .batchSize: "--batch", .learningRate: "--lr",
        .minimumLearningRate: "the minimum learning rate (a tenth of --lr)", .warmupSteps: "--warmup", .weightDecay: "--weight-decay",
        .evaluationInterval: "--eval-every", .resume: "--resume", .precision: "--precision"
    ]

    /// `Lantern.main()`, except that a `ValidationError` thrown while a subcommand runs (a flag
    /// whose value only the model or the trace can judge, e.g. `--layer 99`) prints that
    /// subcommand's usage line; ArgumentParser would print the root's (`lantern <subcommand>`).
    static func runCommand() {
        var command: ParsableCommand
        do { command = try Lantern.parseAsRoot() } catch { Lantern.exit(withError: error) }
        do {
            try command.run()
        } catch let error as ValidationError {
            let usage = Lantern.usageString(for: type(of: command))
            let name = usage.split(separator: " ").prefix { !$0.hasPrefix("[") && !$0.hasPrefix("<") }.joined(separator: " ")
            FileHandle.standardError.write(
                Data(
                    """
                    Error: \(error.message)
                    Usage: \(usage)
                      See '\(name) --help' for more information.

                    """.utf8))
            Lantern.exit(withError: ExitCode.validationFailure)
        } catch {
            Lantern.exit(withError: error)
        }
    }

    /// OpenBLAS chose its kernels when it loaded, before `main`. When it fell back to a generic
    /// core on a CPU with AVX2 or AVX-512, start this same command again with the right core
    /// named: one exec, before anything was read or written. If the exec fails, carry on (slower).
    static func restartWithTheRightBLASCoreIfNeeded() {
        guard let core = BLASCore.correctionForThisProcess() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(BLASCore.correctedMarker, "1", 1)
        unsetenv(BLASCore.assumedCoreVariable)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")
        unsetenv(BLASCore.correctedMarker)
    }
}

struct Lantern: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lantern",
        abstract: "Run real language models and see what happens inside them.",
        discussion: """
            Lantern runs GPT-2 and Llama-style models (decoders) and BERT-style encoders on
            the CPU, token by token, and shows what happens inside. Models are Hugging Face
            folders (config.json + model.safetensors + tokenizer files) or llama2.c .bin
            checkpoints.

            Run `lantern` alone on a terminal for a welcome, or `lantern lesson` for the
            guided lessons.

            Examples:
              lantern lesson 1
              lantern generate "Once upon a time" --model path/to/gpt2
              lantern tokenize "Hello world" --model path/to/gpt2
              lantern info --model path/to/stories260K.bin
              lantern corpus --size-mb 1 --eval output/corpus/eval
              lantern bench
              lantern train-tokenizer --data corpus.txt --vocab-size 4096 --out output/tok
            """,
        version: Installation.versionLine(),
        subcommands: [
            LessonCommand.self, GenerateCommand.self, StepCommand.self, TokenizeCommand.self, InfoCommand.self, TraceCommand.self,
            LensCommand.self, ResidualCommand.self, AblateCommand.self, PatchCommand.self, HeadsCommand.self, AttentionCommand.self,
            ProbsCommand.self,
            ExportCommand.self,
            PositionsCommand.self,
            EmbeddingsCommand.self, FillCommand.self, EmbedCommand.self, ClassifyCommand.self, BranchCommand.self, GraphCommand.self,
            CorpusCommand.self,
            TrainTokenizerCommand.self,
            TrainCommand.self, EvaluateCommand.self, BenchCommand.self, DownloadCommand.self, ModelsCommand.self
        ])

    /// Bare `lantern`: on a terminal, a welcome and the first lesson; otherwise the usual help.
    func run() throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { throw CleanExit.helpRequest(self) }
        try LessonCommand.welcome()
    }
}

import ArgumentParser
import Foundation
import ModelHub

struct DownloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download a model from the Hugging Face hub into Lantern's models folder.",
        discussion: """
            Models land in $LANTERN_HOME/models/NAME (by default ~/.lantern/models/NAME),
            where --model NAME finds them. Files arrive in NAME.partial/ first: an
            interrupted download resumes where it stopped when you run the same command
            again; each file is checked against its size and, where one is published, its
            SHA-256; and the folder takes its final name only when every file is complete.
            Progress goes to standard error.

            Models: gpt2, distilgpt2, gpt2-medium, gpt2-large, gpt2-xl (GPT-2,
            safetensors), stories15M, stories42M, stories110M (llama2.c TinyStories
            checkpoints, with llama2.c's tokenizer.bin from GitHub), all-minilm-l6-v2 (a
            sentence encoder), t5-small, flan-t5-small and bart-base (encoder–decoders).
            `lantern models` lists them with their sizes.

            Examples:
              lantern download gpt2
              lantern generate "Hello" --model gpt2
              lantern download stories15M
              lantern download distilgpt2 --endpoint https://hf-mirror.com
            """)

    @Argument(help: "The model to download (see `lantern models`).")
    var name: String

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The hub's base address (default: $HF_ENDPOINT, else https://huggingface.co).", valueName: "url"))
    var endpoint: String?

    @Flag(name: .long, help: "Download again even if the model is already there (the old copy is replaced once the new one is complete).")
    var force = false

    func validate() throws {
        guard ModelCatalog.builtIn.entry(named: name) != nil else {
            throw ValidationError(ModelHubError.unknownModel(name, known: ModelCatalog.builtIn.names).description)
        }
        do { _ = try Downloader.endpoint(option: endpoint, environment: ProcessInfo.processInfo.environment) } catch {
            throw ValidationError("--endpoint \(endpoint ?? ""): \(error)")
        }
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let entry = ModelCatalog.builtIn.entry(named: name)!
        let locations = ModelLocations(environment: environment)
        let progress = DownloadProgress.standardError()
        let downloader = Downloader(
            locations: locations,
            endpoint: try Downloader.endpoint(option: endpoint, environment: environment),
            onEvent: { progress.handle($0) })
        let shown = ModelLocations.display(locations.lanternFolder(for: entry.name), environment: environment)
        if !force, FileManager.default.fileExists(atPath: locations.lanternFolder(for: entry.name).path) {
            print("\(entry.name) is already in \(shown) (use --force to download it again)")
            return
        }
        printError("downloading \(entry.name) (\(entry.summary), about \(ByteCount.format(entry.approximateBytes))) into \(shown)")
        do {
            try downloader.download(entry, force: force)
        } catch {
            progress.finishLine()
            throw error
        }
        print("saved \(entry.name) to \(shown)")
        printError("try: \(entry.firstCommand)")
    }
}

import ArgumentParser
import Foundation
import ModelHub

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the models on this machine and the ones `lantern download` can fetch.",
        discussion: """
            Local models come from Lantern's folder ($LANTERN_HOME/models, by default
            ~/.lantern/models) and from the Hugging Face hub cache ($HF_HUB_CACHE, else
            $HF_HOME/hub, else ~/.cache/huggingface/hub), so models fetched with the
            huggingface_hub Python library work as they are. Pass the name shown to
            --model.

            Examples:
              lantern models
              lantern models --json
            """)

    @Flag(name: .long, help: "Print one JSON object ({\"built_in\": [...], \"local\": [...], \"downloadable\": [...]}) instead of tables.")
    var json = false

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let locations = ModelLocations(environment: environment)
        let locator = ModelLocator(locations: locations)
        let local = locator.localModels()
        let sizes = local.map { ModelLocator.size(of: $0.folder) }
        let catalog = ModelCatalog.builtIn.entries
        let here = Set(local.filter { $0.origin == .lantern }.map(\.name))

        if json {
            try printJSON([
                "built_in": BuiltInModel.all.map(\.name),
                "lantern_models_folder": locations.lanternModels.path,
                "huggingface_cache": locations.huggingFaceHubCache.path,
                "local": zip(local, sizes).map { model, size in
                    [
                        "name": model.name, "origin": model.origin.rawValue, "family": model.family ?? NSNull(),
                        "bytes": size, "path": model.loadPath.path, "revision": model.revision ?? NSNull()
                    ] as [String: Any]
                },
                "downloadable": catalog.map { entry in
                    [
                        "name": entry.name, "repo": entry.repo, "family": entry.family, "summary": entry.summary,
                        "approximate_bytes": entry.approximateBytes, "downloaded": here.contains(entry.name),
                        "files": entry.files.map(\.name)
                    ] as [String: Any]
                }
            ])
            return
        }

        let display = { (url: URL) in ModelLocations.display(url, environment: environment) }
        print("Built in (no download):")
        printTable(
            header: ["name", "family", "model"],
            rows: [
                [BuiltInModel.teaching.name, "gpt2", "the teaching decoder: the default --model"],
                [BuiltInModel.encoder.name, "bert", "the teaching encoder: the default of `lantern fill` and `lantern embed`"],
                [BuiltInModel.translator.name, "bart", "the teaching translator (toy French → English): --model lantern-tiny-translate"]
            ])
        print("")
        print("On this machine (\(display(locations.lanternModels)), \(display(locations.huggingFaceHubCache))):")
        if local.isEmpty {
            print("  none yet: `lantern download gpt2` fetches one")
        } else {
            let rows = zip(local, sizes).map { model, size in
                [
                    model.name, model.family ?? "?", ByteCount.format(size),
                    model.origin == .lantern ? display(model.folder) : "Hugging Face cache, \(display(model.folder))"
                ]
            }
            printTable(header: ["name", "family", "size", "where"], rows: rows)
        }
        print("")
        print("Downloadable with `lantern download NAME`:")
        let rows = catalog.map { entry in
            [
                entry.name, entry.family, "~" + ByteCount.format(entry.approximateBytes),
                entry.summary + (here.contains(entry.name) ? " (downloaded)" : "")
            ]
        }
        printTable(header: ["name", "family", "size", "model"], rows: rows)
        var notes: [(note: String, names: [String])] = []
        for entry in catalog {
            guard let note = entry.note else { continue }
            if let index = notes.firstIndex(where: { $0.note == note }) {
                notes[index].names.append(entry.name)
            } else {
                notes.append((note, [entry.name]))
            }
        }
        for (note, names) in notes { print("  \(names.joined(separator: ", ")): \(note)") }
    }

    /// Left-aligned columns, two spaces apart, indented by two.
    private func printTable(header: [String], rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        for row in all {
            let cells = row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            print("  " + cells.joined(separator: "  "))
        }
    }
}

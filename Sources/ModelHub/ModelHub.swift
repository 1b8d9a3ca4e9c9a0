import Foundation

/// Finding models by name and downloading them.
///
/// - `ModelCatalog`: the models `lantern download` knows (GPT-2 sizes, llama2.c TinyStories).
/// - `ModelLocations`: Lantern's models folder and the Hugging Face cache, from the environment.
/// - `ModelLocator`: a name → a model folder on this machine; the list of local models.
/// - `Downloader`: resumable, verified downloads into Lantern's folder; `DownloadProgress` shows them.
///
/// This module depends on Foundation only, so anything can use it to find a model's files.
public enum ModelHub {
    /// What `--model` should open for `argument`: an existing path as given; otherwise a model
    /// name found in Lantern's folder or the Hugging Face cache (the path to load). A catalog
    /// name that is not on this machine throws `notDownloaded`; anything else comes back
    /// unchanged, for the model loader to report.
    public static func resolveModelArgument(
        _ argument: String,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        catalog: ModelCatalog = .builtIn
    ) throws -> String {
        // An empty argument would be read as the current folder ("missing file ./config.json").
        guard !argument.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ModelHubError.unknownModel("\"\"", known: BuiltInModel.all.map(\.name) + catalog.entries.map(\.name))
        }
        let expanded = ModelLocations.expandingTilde(argument, environment: environment)
        if FileManager.default.fileExists(atPath: expanded) { return argument }
        if let builtIn = BuiltInModel.named(argument) {
            guard let folder = builtIn.folder(environment: environment) else { throw ModelHubError.builtInMissing(builtIn) }
            return folder.path
        }
        guard ModelLocator.isModelName(argument) else { return argument }
        let locations = ModelLocations(environment: environment)
        let locator = ModelLocator(locations: locations, catalog: catalog)
        if let model = locator.locate(argument) { return model.loadPath.path }
        if let entry = catalog.entry(named: argument) {
            throw ModelHubError.notDownloaded(
                entry.name,
                searched: [
                    ModelLocations.display(locations.lanternModels, environment: environment),
                    ModelLocations.display(locations.huggingFaceHubCache, environment: environment)
                ])
        }
        return argument
    }
}

import CGraphviz
import Foundation
import Tensors
#if canImport(Glibc)
    import Glibc
#endif

/// What a graph can be written as.
public enum GraphFormat: String, Sendable, CaseIterable {
    case png, svg, dot

    public var fileExtension: String { rawValue }
}

/// Why a graph could not be laid out, rendered or written.
public enum GraphvizError: Error, LocalizedError, Equatable {
    /// Graphviz found no layout or render plugins (its `config6` is missing and the plugin
    /// libraries could not be loaded directly either).
    case noPlugins(String)
    case parseFailed(String)
    case layoutFailed(String)
    case renderFailed(format: String, String)
    /// The folder that should receive the file cannot be written to.
    case unwritableFolder(String, reason: String)
    case writeFailed(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .noPlugins(let detail):
            return
                "Graphviz has no layout or render plugins: \(detail). Hint: install Debian's graphviz package (it provides the plugins and their config), or export the DOT text (set \(UserSetting.graphFormat) to dot)."
        case .parseFailed(let message):
            return "Graphviz could not read the DOT text: \(message)"
        case .layoutFailed(let message):
            return "Graphviz could not lay out the graph with dot: \(message)"
        case .renderFailed(let format, let message):
            return "Graphviz could not render the graph as \(format): \(message)"
        case .unwritableFolder(let folder, let reason):
            return
                "cannot write into the folder \(folder): \(reason). Hint: set \(UserSetting.output) to another place, or create the folder first."
        case .writeFailed(let path, let reason):
            return "could not write \(path): \(reason)"
        }
    }
}

/// Lays out DOT text with Graphviz's `dot` and renders it, through libgvc.
///
/// Graphviz keeps global state (its error channel, plugin tables), so every call goes
/// through one lock: callers on several threads are served one at a time.
public enum Graphviz {
    /// PNG or SVG bytes for `dot`. (`.dot` returns the text itself.)
    public static func render(_ dot: String, as format: GraphFormat) throws -> Data {
        if format == .dot { return Data(dot.utf8) }
        return try lock.withLock { try renderLocked(dot, format: format.rawValue) }
    }

    /// Renders `dot` and writes it atomically to `url` (a temporary file beside it, then a rename).
    public static func write(_ dot: String, as format: GraphFormat, to url: URL) throws {
        let data = try render(dot, as: format)
        try writeAtomically(data, to: url)
    }

    /// Writes `data` to `url` whole or not at all (`AtomicFile`); the folder must exist.
    public static func writeAtomically(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) else {
            throw GraphvizError.unwritableFolder(folder.path, reason: "it does not exist")
        }
        guard isDirectory.boolValue else {
            throw GraphvizError.unwritableFolder(folder.path, reason: "it is a file, not a folder")
        }
        do { try AtomicFile.write(data, to: url) } catch {
            throw error.path == url.path
                ? GraphvizError.writeFailed(path: url.path, reason: error.reason)
                : GraphvizError.unwritableFolder(error.path, reason: error.reason)
        }
    }

    // MARK: - libgvc, under the lock

    private static let lock = NSLock()

    /// Messages Graphviz reported during the current call (read and written only under `lock`).
    nonisolated(unsafe) private static var messages: [String] = []

    private static func renderLocked(_ dot: String, format: String) throws -> Data {
        messages = []
        // Route Graphviz's error and warning text to us instead of stderr.
        let previous = agseterrf { message in
            if let message { Graphviz.messages.append(String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)) }
            return 0
        }
        defer { agseterrf(previous) }

        let context = try sharedContext()
        guard let graph = agmemread(dot) else {
            throw GraphvizError.parseFailed(lastMessage(or: "syntax error in the DOT text"))
        }
        defer { agclose(graph) }
        guard gvLayout(context, graph, "dot") == 0 else {
            throw GraphvizError.layoutFailed(lastMessage(or: "gvLayout returned an error"))
        }
        defer { gvFreeLayout(context, graph) }
        var buffer: UnsafeMutablePointer<CChar>?
        var length: UInt32 = 0
        guard gvRenderData(context, graph, format, &buffer, &length) == 0, let buffer, length > 0 else {
            throw GraphvizError.renderFailed(format: format, lastMessage(or: "gvRenderData produced no output"))
        }
        defer { gvFreeRenderData(buffer) }
        return Data(bytes: buffer, count: Int(length))
    }

    /// A context with the `dot` layout and PNG/SVG renderers. `gvContext()` reads the plugin
    /// list from Graphviz's `config6`; when that finds nothing (no config written, an unusual
    /// install), load the plugin libraries ourselves and hand their symbol tables to
    /// `gvContextPlugins` — the documented fix.
    /// One context for the life of the process, used only under `lock`. Graphviz's pango plugin
    /// remembers the last font it measured by a pointer into the context's font table; freeing
    /// the context after every render left that pointer dangling for the next one
    /// (AddressSanitizer: heap-use-after-free in libgvplugin_pango, scripts/sanitize.sh).
    nonisolated(unsafe) private static var context: OpaquePointer?

    private static func sharedContext() throws -> OpaquePointer {
        if let context { return context }
        let made = try makeContext()
        context = made
        return made
    }

    private static func makeContext() throws -> OpaquePointer {
        if let context = gvContext() {
            if pluginCount(context, kind: "layout") > 0 && pluginCount(context, kind: "render") > 0 { return context }
            gvFreeContext(context)
        }
        let builtins = try builtinPlugins()
        guard let context = builtins.withUnsafeBufferPointer({ gvContextPlugins($0.baseAddress, 0) }),
            pluginCount(context, kind: "layout") > 0
        else {
            throw GraphvizError.noPlugins("gvContextPlugins with the plugin libraries found no layout engine")
        }
        return context
    }

    private static func pluginCount(_ context: OpaquePointer, kind: String) -> Int {
        var count: Int32 = 0
        guard let list = gvPluginList(context, kind, &count, nil) else { return 0 }
        for index in 0..<Int(count) { free(list[index]) }
        free(list)
        return Int(count)
    }

    /// Symbol tables of the core (SVG), dot layout and pango/cairo (PNG) plugins, loaded once
    /// with dlopen and kept for the life of the process.
    nonisolated(unsafe) private static var loadedPlugins: [lt_symlist_t]?

    private static func builtinPlugins() throws -> [lt_symlist_t] {
        if let loadedPlugins { return loadedPlugins }
        let folders = [
            "/usr/lib/x86_64-linux-gnu/graphviz", "/usr/lib/aarch64-linux-gnu/graphviz",
            "/usr/lib/graphviz", "/usr/local/lib/graphviz", "/opt/homebrew/lib/graphviz"
        ]
        var symbols: [lt_symlist_t] = []
        for plugin in ["dot_layout", "core", "pango"] {
            let symbol = "gvplugin_\(plugin)_LTX_library"
            for folder in folders {
                let candidates = ["libgvplugin_\(plugin).so.6", "libgvplugin_\(plugin).so", "libgvplugin_\(plugin).dylib"]
                guard let handle = candidates.lazy.compactMap({ dlopen("\(folder)/\($0)", RTLD_NOW) }).first,
                    let address = dlsym(handle, symbol)
                else { continue }
                symbols.append(lt_symlist_t(name: UnsafePointer(strdup(symbol)), address: address))
                break
            }
        }
        guard symbols.contains(where: { $0.name.map { String(cString: $0) } == "gvplugin_dot_layout_LTX_library" }) else {
            throw GraphvizError.noPlugins(
                "the configuration lists none and libgvplugin_dot_layout was not found in \(folders.joined(separator: ", "))")
        }
        symbols.append(lt_symlist_t(name: nil, address: nil))
        loadedPlugins = symbols
        return symbols
    }

    private static func lastMessage(or fallback: String) -> String {
        let text = messages.filter { !$0.isEmpty }.joined(separator: "; ")
        return text.isEmpty ? fallback : text
    }

    private static func describe(_ error: Error) -> String { PlainError.reason(error) }
}

/// DOT text helpers shared by every graph Lantern builds.
enum DOT {
    /// A DOT string: quotes and backslashes escaped, newlines as centred line breaks.
    static func quote(_ value: String) -> String {
        var out = "\""
        for character in value {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out + "\""
    }
}

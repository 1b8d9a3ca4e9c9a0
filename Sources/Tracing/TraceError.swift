import Tensors
import Foundation

public enum TraceError: Error, CustomStringConvertible, LocalizedError {
    case unknownRecord(String, known: [String])
    case overBudget(estimate: Int, budget: Int, positions: Int, largest: [String])
    case notATrace(String, problem: String)
    case missingTensor(String, folder: String)
    case unwritable(String, problem: String)
    case outputExists(String)
    case notComparable(String)
    /// trace.json's `ablation` or `head_switches` entry (named) is not one Lantern writes.
    case malformedIntervention(entry: String, problem: String)

    public var description: String {
        switch self {
        case .malformedIntervention(let entry, let problem):
            return "trace.json's \(entry) is not one Lantern writes (\(problem)): it cannot be replayed"
        case .unknownRecord(let name, let known):
            return "unknown record \"\(name)\" in \(UserSetting.capture); known records: \(known.joined(separator: ", ")), all, none"
        case .overBudget(let estimate, let budget, let positions, let largest):
            let mb = { (bytes: Int) in String(format: "%.0f MB", Double(bytes) / 1e6) }
            return "capturing this run would take about \(mb(estimate)) for \(positions) tokens, over the \(mb(budget)) budget; "
                + "narrow it (largest: \(largest.joined(separator: ", ")); e.g. add -\(largest.first ?? "attn.pattern") to \(UserSetting.capture) or set \(UserSetting.layers) to 0,1), "
                + "generate fewer tokens (lower \(UserSetting.maxNewTokens)), or raise \(UserSetting.captureBudget)"
        case .notATrace(let path, let problem):
            return
                "\(path) is not a Lantern trace: \(problem); traces are the folders Lantern writes when it records a run (\(UserSetting.traceFolder))"
        case .missingTensor(let name, let folder):
            // The record kind is the name without its "blocks.L." prefix.
            let parts = name.split(separator: ".")
            let kind = parts.first == "blocks" && parts.count > 2 ? parts.dropFirst(2).joined(separator: ".") : name
            return "trace \(folder) has no tensor \(name); add +\(kind) to \(UserSetting.capture)"
        case .unwritable(let path, let problem):
            return "cannot write \(path): \(problem); set \(UserSetting.traceFolder) to another folder"
        case .notComparable(let reason):
            return
                "these traces cannot be compared: \(reason); trace diff compares runs of one architecture on the same prompt (other sampling settings, other weights)"
        case .outputExists(let path):
            return
                "\(path) exists and is not a Lantern trace holding only its own files; it was left untouched: choose an empty or new folder"
        }
    }

    public var errorDescription: String? { description }
}

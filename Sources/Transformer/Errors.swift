import Tensors
import Foundation

/// Everything that can go wrong while loading a model, each with the file it concerns
/// and a hint a user can act on. Printed as one line by the command-line tool.
public enum ModelLoadError: Error, CustomStringConvertible, LocalizedError {
    case missingPath(String, hint: String)
    case missingFile(String, hint: String)
    case malformedConfig(file: String, problem: String)
    case unsupportedArchitecture(file: String, found: String)
    /// A valid setting that would change what the model computes, which Lantern does not run.
    case unsupportedSetting(file: String, setting: String, hint: String)
    case malformedWeights(file: String, problem: String)
    /// The path exists but cannot be read as a file (a folder, a pipe, a device, no permission).
    case unreadable(String, reason: String)
    case missingTensor(name: String, file: String)
    case wrongShape(name: String, expected: [Int], found: [Int], file: String)
    case unsupportedDType(name: String, dtype: String, file: String)
    case weightOutOfRange(name: String, format: String, largest: Float, file: String)
    /// A weight that is NaN or infinite: every output it touches would be too.
    case nonFiniteWeight(name: String, value: Float, file: String)

    public var description: String {
        switch self {
        case .missingPath(let path, let hint):
            return "no model at \(path): \(hint)"
        case .missingFile(let path, let hint):
            return "missing file \(path): \(hint)"
        case .malformedConfig(let file, let problem):
            return "\(file): malformed model configuration: \(problem)"
        case .unsupportedArchitecture(let file, let found):
            return
                "\(file): unsupported architecture \(found); Lantern runs GPT-2 (GPT2LMHeadModel), Llama (LlamaForCausalLM), BERT (BertModel, BertForMaskedLM), T5 (T5ForConditionalGeneration) and BART (BartForConditionalGeneration) models"
        case .unsupportedSetting(let file, let setting, let hint):
            return "\(file): \(setting) is not supported: \(hint)"
        case .malformedWeights(let file, let problem):
            return "\(file): corrupted or truncated weights: \(problem); download the file again"
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason); give a model folder or a llama2.c .bin file"
        case .missingTensor(let name, let file):
            return "\(file): tensor \(name) is missing; the weights do not belong to this configuration"
        case .wrongShape(let name, let expected, let found, let file):
            return "\(file): tensor \(name) has shape \(found) but config.json implies \(expected); the weights do not match config.json"
        case .unsupportedDType(let name, let dtype, let file):
            return "\(file): tensor \(name) has dtype \(dtype); Lantern reads F32, F16 and BF16 weights"
        case .nonFiniteWeight(let name, let value, let file):
            return
                "\(file): tensor \(name) holds \(value); a model with NaN or infinite weights computes nothing meaningful (a damaged or mis-converted file): get the file again"
        case .weightOutOfRange(let name, let format, let largest, let file):
            return
                "\(file): tensor \(name) holds values up to \(largest), beyond what \(format) can store (±65504); set \(UserSetting.weightFormat) to bf16 or f32"
        }
    }

    public var errorDescription: String? { description }
}

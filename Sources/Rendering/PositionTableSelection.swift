import Foundation
import Generation
import Tensors
import Transformer

/// The position tables `lantern positions` draws: a model's own (its learned table, its width,
/// its rotary head size, θ and scaling) when one is given, else textbook ones of a chosen width.
public enum PositionTableSelection {
    /// `schemes` in the order drawn (nil: every scheme there is — learned only with a model
    /// that has a table), `positions` rows each; `width` overrides the model's (default 64).
    public static func tables(
        schemes: PositionScheme?, positions: Int, width: Int?, bundle: ModelBundle?
    ) throws(PositionTableError) -> [PositionTable] {
        let config = bundle?.model.config
        let name = bundle.map { URL(fileURLWithPath: $0.source).lastPathComponent } ?? "no model"
        if let config, positions > config.contextLength {
            throw .beyondContext(positions: positions, model: name, context: config.contextLength)
        }
        let learned = bundle?.model.learnedPositionTable.map { table in
            PositionTable.learned(table, positions: positions, origin: "\(name), width \(config!.width)")
        }
        let C = width ?? config?.width ?? 64
        let sinusoidal = PositionTable.sinusoidal(
            positions: positions, width: C, origin: config == nil ? "width \(C)" : "width \(C) as in \(name)")
        // A model without rotary positions still gives its head size to the textbook rotary table.
        let headSize = width ?? config?.headSize ?? 64
        var rotary = PositionTable.rotary(
            positions: positions, headSize: headSize, theta: 10000,
            origin: width == nil && config != nil ? "head size \(headSize) as in \(name), θ = 10000" : "head size \(headSize), θ = 10000")
        if let config, case .rotary(let theta, _) = config.positional {
            let scaled = config.rotaryScaling == .none ? "" : ", scaling \(config.rotaryScaling)"
            rotary = PositionTable.rotary(
                positions: positions, headSize: config.headSize, theta: theta, scaling: config.rotaryScaling,
                origin: "\(name): head size \(config.headSize), θ = \(plain(theta))\(scaled)")
        }
        switch schemes {
        case .learned:
            guard let learned else { throw .noLearnedTable(model: name, family: config?.family.rawValue ?? "") }
            return [learned]
        case .sinusoidal: return [sinusoidal]
        case .rotary: return [rotary]
        case nil: return (learned.map { [$0] } ?? []) + [sinusoidal, rotary]
        }
    }

    /// 10000 rather than 10000.0; 500000.5 as it is.
    static func plain(_ value: Float) -> String { value == value.rounded() ? String(Int(value)) : String(value) }
}

public enum PositionTableError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case beyondContext(positions: Int, model: String, context: Int)
    case noLearnedTable(model: String, family: String)

    public var description: String {
        switch self {
        case .beyondContext(let positions, let model, let context):
            return
                "\(UserSetting.positions) \(positions) is out of range: \(model) has a context of \(context) positions, so use 2 to \(context)"
        case .noLearnedTable(let model, let family):
            return
                "\(model) has no learned position table: it is a \(family) model that uses rotary positions (RoPE); set \(UserSetting.positionScheme) to rotary"
        }
    }

    public var errorDescription: String? { description }
}

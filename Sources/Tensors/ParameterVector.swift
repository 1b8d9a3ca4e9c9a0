/// Floats at one address for the object's whole life: a norm gain, a bias or a position table
/// that a forward pass reads by pointer (an array's storage may not be held past its closure).
/// Immutable after creation.
public final class ParameterVector: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(_ values: [Float]) {
        count = values.count
        pointer = .allocate(capacity: max(1, count))
        values.withUnsafeBufferPointer { pointer.initialize(from: $0.baseAddress!, count: count) }
    }

    deinit { pointer.deallocate() }

    public var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// A linear layer's weight `[out, in]` as a forward pass reads it: one of the engine's matrices
/// (f32, f16 or bf16) or a view into training's flat f32 parameter buffer.
public enum LinearWeight: @unchecked Sendable {
    case matrix(WeightMatrix)
    case floats(UnsafePointer<Float>)

    /// Row `row` (`columns` values), widened to f32: an embedding lookup.
    public func copyRow(_ row: Int, columns: Int, into out: UnsafeMutablePointer<Float>) {
        switch self {
        case .matrix(let matrix): matrix.widenRows(row..<row + 1, into: out)
        case .floats(let values): out.update(from: values + row * columns, count: columns)
        }
    }
}

/// `out[T, OC] = input[T, C] · weight[OC, C]ᵀ (+ bias[OC])` for either kind of weight.
public func linearForward(
    out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
    weight: LinearWeight, bias: UnsafePointer<Float>?, T: Int, C: Int, OC: Int, products: ProductPrecision = .f32
) {
    switch weight {
    case .matrix(let matrix):
        precondition(products == .f32, "linearForward: bf16 products are for training's float32 weights")
        linearForward(out: out, input: input, weight: matrix, bias: bias, T: T, C: C, OC: OC)
    case .floats(let values): linearForward(out: out, input: input, weight: values, bias: bias, T: T, C: C, OC: OC, products: products)
    }
}

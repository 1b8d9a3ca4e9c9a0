/// A dense, row-major float32 tensor: the one container the engine passes around.
///
/// Shapes are written outermost first, e.g. `[token, channel]` or
/// `[head, query, key]`; `scalars` holds `shape.reduce(1, *)` values.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var scalars: [Float]

    public init(shape: [Int], scalars: [Float]) {
        precondition(
            shape.reduce(1, *) == scalars.count,
            "Tensor: shape \(shape) needs \(shape.reduce(1, *)) values, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    public init(zeros shape: [Int]) {
        self.shape = shape
        self.scalars = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }

    /// Row `i` of a tensor viewed as `[shape[0], rest]`.
    public func row(_ i: Int) -> ArraySlice<Float> {
        let width = count / shape[0]
        return scalars[(i * width)..<((i + 1) * width)]
    }

    /// Largest absolute element-wise difference; the figure golden tests report.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "maxAbsDifference: shapes \(shape) and \(other.shape) differ")
        var worst: Float = 0
        for i in 0..<count { worst = max(worst, abs(scalars[i] - other.scalars[i])) }
        return worst
    }
}

/// One zeroed allocation holding a training pass's activations back to back, so zeroing them is
/// one call and a second arena of the same sizes (the activations' gradients) has the same layout.
/// `slices[i]` starts the `i`-th of `sizes`.
final class ActivationArena {
    let slices: [UnsafeMutablePointer<Float>]
    /// Total number of floats.
    let count: Int
    private let memory: UnsafeMutablePointer<Float>

    init(sizes: [Int]) {
        count = sizes.reduce(0, +)
        memory = .allocate(capacity: count)
        memory.initialize(repeating: 0, count: count)
        var next = memory, slices: [UnsafeMutablePointer<Float>] = []
        for size in sizes {
            slices.append(next)
            next += size
        }
        self.slices = slices
    }

    func zero() { memory.update(repeating: 0, count: count) }

    deinit { memory.deallocate() }
}

/// The checks every training forward makes on a `[B, T]` batch: shapes, ids inside the
/// vocabulary, targets an id or −1 (not scored).
func checkTrainingBatch(inputs: [Int32], targets: [Int32]?, B: Int, T: Int, vocabulary V: Int, model: String) {
    let N = B * T
    precondition(inputs.count == N && (targets?.count ?? N) == N, "\(model).forward: inputs and targets must be [\(B), \(T)]")
    precondition(
        inputs.allSatisfy { $0 >= 0 && Int($0) < V } && (targets ?? []).allSatisfy { $0 >= -1 && Int($0) < V },
        "\(model).forward: a token id is outside the vocabulary 0..<\(V)")
}

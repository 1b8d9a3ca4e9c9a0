import Tensors

/// Threads for training: the worker pool splits the matrix products (each part a single-threaded
/// BLAS call), attention's (sequence, head) pairs and the element-wise work.
public enum TrainingThreads {
    public static func set(_ count: Int) {
        Parallelism.setThreads(count)
    }
}

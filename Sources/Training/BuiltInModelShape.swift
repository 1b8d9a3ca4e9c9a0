/// The shape of Lantern's built-in teaching model, and the batch it was trained with
/// (see `Sources/ModelHub/lantern-tiny/TRAINING.md` for the exact command).
public enum BuiltInModelShape {
    public static let layers = 6
    public static let heads = 6
    public static let width = 192
    public static let context = 256
    public static let vocabularySize = 2048
    public static let batch = 8
}

import FuzzTargets
import Foundation

// Two builds of one file:
// - with `-D LANTERN_LIBFUZZER -sanitize=fuzzer,address -parse-as-library` (scripts/fuzz.sh) it
//   hands its arguments to libFuzzer's driver, which calls back with each input for the parser
//   named by LANTERN_FUZZ_TARGET;
// - in a normal build it replays files: `lantern-fuzz TARGET FILE…` prints what each gave, to
//   reproduce a crash the fuzzer found without the sanitizers.

/// A private folder for the parsers that read paths; the same for every input of this process.
private let scratch: URL = {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-fuzz-\(getpid())")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}()

#if LANTERN_LIBFUZZER
    // SwiftPM links an executable's entry as `<module>_main` (here lantern_fuzz_main, with `main`
    // defined as it), so the fuzzing build (-parse-as-library, no @main) defines that symbol
    // itself and hands over to libFuzzer's driver, which calls back with each input.
    @_silgen_name("LLVMFuzzerRunDriver")
    private func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<Int32>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
    ) -> Int32

    nonisolated(unsafe) private var fuzzTarget = FuzzTarget.npy

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
        let data = bytes.map { Data(bytes: $0, count: count) } ?? Data()
        fuzzTarget.run(data, in: scratch)
        return 0
    }

    @_cdecl("lantern_fuzz_main")
    public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
        let name = ProcessInfo.processInfo.environment["LANTERN_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("set LANTERN_FUZZ_TARGET to one of: \(names)\n".utf8))
            return 2
        }
        fuzzTarget = target
        var argc = argc, argv = argv
        return runFuzzerDriver(&argc, &argv, fuzzOneInput)
    }
#else
    @main
    struct ReplayFuzzInputs {
        static func main() {
            let arguments = Array(CommandLine.arguments.dropFirst())
            guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count > 1 else {
                let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
                print("usage: lantern-fuzz TARGET FILE…  (replays fuzzer inputs; TARGET is one of: \(names))")
                exit(2)
            }
            for path in arguments.dropFirst() {
                guard let data = FileManager.default.contents(atPath: path) else {
                    print("\(path): cannot be read")
                    continue
                }
                let outcome = target.run(data, in: scratch).map { "refused: \($0)" } ?? "accepted"
                print("\(path): \(outcome)")
            }
            try? FileManager.default.removeItem(at: scratch)
        }
    }
#endif

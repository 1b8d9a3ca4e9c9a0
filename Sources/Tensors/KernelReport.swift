import CKernels
import COpenBLAS
import Foundation

/// Which kernels do the engine's arithmetic on this machine, and which CPU it is: printed by
/// `lantern bench` and `lantern info --kernels`, so a slow run can be explained.
public struct KernelReport: Sendable {
    /// e.g. "AMD EPYC" (from /proc/cpuinfo), or "unknown CPU".
    public let cpuModel: String
    /// The vector features Lantern's kernels and OpenBLAS's cores care about, present on this CPU.
    public let cpuFeatures: [String]
    /// OpenBLAS's own description, e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64".
    public let blasConfiguration: String
    /// The OpenBLAS core whose kernels run the matrix products, e.g. "Zen", "Haswell", "SkylakeX".
    public let blasCore: String
    /// Where that core came from.
    public let blasCoreOrigin: BLASCore.Origin
    /// The decode (matrix–vector) kernel for float32 weights.
    public let matVecKernel: String
    /// The kernels for f16 and bf16 weights.
    public let halfKernels: [WeightFormat: String]
    /// Problems worth telling the user (a generic BLAS core on a vector-capable CPU).
    public let warnings: [String]

    public static func current() -> KernelReport {
        let avx512 = lantern_cpu_has_avx512() == 1, avx2 = lantern_cpu_has_avx2_fma() == 1, f16c = lantern_cpu_has_f16c() == 1
        var features: [String] = []
        if avx2 { features.append("avx2+fma") }
        if f16c { features.append("f16c") }
        if avx512 { features.append("avx512f/bw/vl/dq/cd") }
        if ProductPrecision.bf16IsNative { features.append("avx512_bf16") }
        let core = String(cString: openblas_get_corename())
        let origin = BLASCore.origin(environment: ProcessInfo.processInfo.environment)
        var warnings: [String] = []
        if BLASCore.isGeneric(core), let better = BLASCore.preferredCore(avx512: avx512, avx2FMA: avx2) {
            switch origin {
            case .environment(let value):
                warnings.append(
                    "OPENBLAS_CORETYPE=\(value) makes OpenBLAS run its generic \(core) kernels on a CPU that has \(features.joined(separator: ", ")); matrix products run several times slower than with \(better). Unset it (Lantern then picks \(better) when OpenBLAS cannot) unless that core misbehaves here."
                )
            case .detected, .corrected:
                warnings.append(
                    "OpenBLAS runs its generic \(core) kernels on a CPU that has \(features.joined(separator: ", ")); matrix products run several times slower than with \(better)."
                )
            }
        }
        return KernelReport(
            cpuModel: Self.cpuModelName() ?? "unknown CPU", cpuFeatures: features,
            blasConfiguration: String(cString: openblas_get_config()).trimmingCharacters(in: .whitespaces),
            blasCore: core, blasCoreOrigin: origin,
            matVecKernel: vectorKernelAvailable ? "avx2+fma (C)" : "portable Swift SIMD",
            halfKernels: [
                .f16: HalfPrecision.f16KernelAvailable ? "avx2+f16c (C)" : "portable Swift",
                .bf16: vectorKernelAvailable ? "avx2+fma (C)" : "portable Swift"
            ],
            warnings: warnings)
    }

    /// One line per fact, for terminals.
    public var lines: [String] {
        let features = cpuFeatures.isEmpty ? "no AVX2" : cpuFeatures.joined(separator: ", ")
        return [
            "cpu            \(cpuModel) (\(features))",
            "matrix×matrix  OpenBLAS, \(blasCore) kernels (\(blasCoreOrigin))",
            "matrix×vector  f32 weights \(matVecKernel); f16 \(halfKernels[.f16]!); bf16 \(halfKernels[.bf16]!)",
            "training bf16  \(ProductPrecision.bf16Kernel)"
        ] + warnings.map { "warning        \($0)" }
    }

    public var jsonObject: [String: Any] {
        [
            "cpu": cpuModel, "cpu_features": cpuFeatures, "blas": blasConfiguration, "blas_core": blasCore,
            "blas_core_origin": blasCoreOrigin.description, "matvec_kernel": matVecKernel,
            "f16_kernel": halfKernels[.f16]!, "bf16_kernel": halfKernels[.bf16]!,
            "training_bf16_products": ProductPrecision.bf16Kernel, "warnings": warnings
        ]
    }

    static func cpuModelName() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
            let colon = line.firstIndex(of: ":")
        else { return nil }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
}

/// OpenBLAS picks its kernels ("core") once, when the library loads, from the CPU's model number
/// or from `OPENBLAS_CORETYPE`. An OpenBLAS older than the CPU does not know its model and falls
/// back to a generic SSE core: Debian 12's 0.3.21 runs `Prescott` kernels on recent AVX-512 Xeons,
/// about 3.5× slower than its `SkylakeX` kernels on the same products. Since the choice is made
/// before `main`, the fix is to name the right core and start the process again (`lantern` does
/// this once at start-up; see `LanternEntry`). A core the user set is left alone.
public enum BLASCore {
    public enum Origin: Sendable, Equatable, CustomStringConvertible {
        /// OpenBLAS recognised the CPU itself.
        case detected
        /// The user set `OPENBLAS_CORETYPE`.
        case environment(String)
        /// Lantern named the core after OpenBLAS fell back to a generic one.
        case corrected

        public var description: String {
            switch self {
            case .detected: return "chosen by OpenBLAS for this CPU"
            case .environment(let value): return "set by OPENBLAS_CORETYPE=\(value)"
            case .corrected: return "chosen by Lantern: this OpenBLAS does not recognise the CPU and fell back to a generic core"
            }
        }
    }

    /// Marks a process that Lantern restarted with a corrected core (so it never restarts twice).
    public static let correctedMarker = "LANTERN_BLAS_CORE_CORRECTED"

    /// OpenBLAS's x86 cores that use SSE only (no AVX): what it falls back to on a CPU it does not know.
    static let genericCores: Set<String> = [
        "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom",
        "Katmai", "Coppermine", "Northwood", "Banias", "Opteron", "Barcelona"
    ]

    public static func isGeneric(_ core: String) -> Bool { genericCores.contains(core) }

    /// The core whose kernels suit a CPU with these features, or nil when no better one applies.
    public static func preferredCore(avx512: Bool, avx2FMA: Bool) -> String? {
        avx512 ? "SkylakeX" : avx2FMA ? "Haswell" : nil
    }

    static func origin(environment: [String: String]) -> Origin {
        if environment[correctedMarker] != nil { return .corrected }
        if let value = environment["OPENBLAS_CORETYPE"], !value.isEmpty { return .environment(value) }
        return .detected
    }

    /// The `OPENBLAS_CORETYPE` to restart with, or nil to carry on: only when OpenBLAS chose a
    /// generic core by itself on a CPU that has AVX2 or AVX-512, and this process is not already
    /// a restart.
    public static func correction(
        runningCore core: String, environment: [String: String],
        avx512: Bool, avx2FMA: Bool
    ) -> String? {
        guard origin(environment: environment) == .detected, isGeneric(core) else { return nil }
        return preferredCore(avx512: avx512, avx2FMA: avx2FMA)
    }

    /// For tests of the restart on CPUs that OpenBLAS does recognise: the core name to act as if
    /// OpenBLAS had chosen.
    public static let assumedCoreVariable = "LANTERN_BLAS_ASSUME_CORE"

    /// The correction for this process (see `correction(runningCore:environment:avx512:avx2FMA:)`).
    public static func correctionForThisProcess() -> String? {
        let environment = ProcessInfo.processInfo.environment
        return correction(
            runningCore: environment[assumedCoreVariable] ?? String(cString: openblas_get_corename()),
            environment: environment,
            avx512: lantern_cpu_has_avx512() == 1, avx2FMA: lantern_cpu_has_avx2_fma() == 1)
    }
}

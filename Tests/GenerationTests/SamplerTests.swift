import Foundation
import Generation
import XCTest

final class RandomSourceTests: XCTestCase {
    /// Golden values from scripts/prng_reference.py, an independent Python implementation.
    func testMatchesTheReferenceImplementation() {
        let expected: [UInt64: [UInt32]] = [
            42: [1456360119, 3359763283, 3393612768, 4054632243, 3283045847],
            0: [226735074, 1422150777, 2823156546, 2104363911, 2430129893],
            1234567: [3540625527, 2750739987, 4037983143, 1993361440, 3809424708]
        ]
        for (seed, values) in expected {
            var random = RandomSource(seed: seed)
            XCTAssertEqual((0..<5).map { _ in random.nextUInt32() }, values, "seed \(seed)")
        }
        var random = RandomSource(seed: 42)
        XCTAssertEqual(random.nextFloat(), 0.3390852212905884, accuracy: 1e-7)
        XCTAssertEqual(random.nextFloat(), 0.7822558283805847, accuracy: 1e-7)
    }
}

final class SamplerTests: XCTestCase {
    let logits: [Float] = [1.0, 3.0, 2.5, -1.0, 0.5, 2.9]

    func testGreedyTakesTheLargestLogitAndReportsTheMargin() {
        var sampler = Sampler(settings: SamplingSettings(greedy: true))
        let step = sampler.sample(logits: logits)
        XCTAssertEqual(step.chosen, 1)
        XCTAssertEqual(step.chosenRank, 1)
        XCTAssertEqual(try XCTUnwrap(step.marginToRunnerUp), 0.1, accuracy: 1e-6)
        XCTAssertNil(step.randomDraw)
        XCTAssertEqual(step.topLogits.map(\.id), [1, 5, 2, 0, 4, 3])
    }

    func testTemperatureZeroIsGreedy() {
        var sampler = Sampler(settings: SamplingSettings(temperature: 0))
        XCTAssertEqual(sampler.sample(logits: logits).chosen, 1)
    }

    /// The smallest temperatures the option allows (down to the least positive float) put all the
    /// probability on the top logit: no NaN, no garbage draw.
    func testTinyTemperaturesAreNumericallySafe() {
        for temperature in [Float(1e-30), 1e-38, Float.leastNormalMagnitude, Float.leastNonzeroMagnitude] {
            for seed in [UInt64(1), 2, 3] {
                var sampler = Sampler(settings: SamplingSettings(temperature: temperature, seed: seed))
                let step = sampler.sample(logits: logits)
                XCTAssertEqual(step.chosen, 1, "temperature \(temperature)")
                XCTAssertEqual(step.chosenProbability, 1, accuracy: 1e-6)
                XCTAssertTrue(step.afterTemperature.allSatisfy { $0.probability.isFinite }, "\(step.afterTemperature)")
                XCTAssertEqual(step.afterTemperature.first?.probability ?? 0, 1, accuracy: 1e-6)
            }
        }
        // Tied top logits share the probability.
        var tied = Sampler(settings: SamplingSettings(temperature: 1e-40, seed: 9))
        let step = tied.sample(logits: [3, 5, 5, -1])
        XCTAssertEqual(step.afterTemperature.prefix(2).map(\.probability), [0.5, 0.5])
        XCTAssertTrue([1, 2].contains(step.chosen))
    }

    func testTopKOneAndTinyTopPAreGreedy() {
        for settings in [SamplingSettings(topK: 1, seed: 5), SamplingSettings(topP: 0.01, seed: 5)] {
            var sampler = Sampler(settings: settings)
            for _ in 0..<20 { XCTAssertEqual(sampler.sample(logits: logits).chosen, 1) }
        }
    }

    func testFunnelCountsAndRenormalisation() {
        var sampler = Sampler(settings: SamplingSettings(temperature: 1, topK: 4, topP: 0.8, seed: 9))
        let step = sampler.sample(logits: logits)
        XCTAssertEqual(step.countAfterTopK, 4)
        // After top-k the four survivors are ids 1, 5, 2, 0; their renormalised probabilities
        // (from softmax of 3.0, 2.9, 2.5, 1.0) are about 0.379, 0.343, 0.230, 0.051:
        // the first three reach 0.8.
        XCTAssertEqual(step.countAfterTopP, 3)
        XCTAssertEqual(step.renormalised.map(\.id), [1, 5, 2])
        XCTAssertEqual(step.renormalised.map(\.probability).reduce(0, +), 1, accuracy: 1e-5)
        XCTAssertTrue([1, 5, 2].contains(step.chosen))
        XCTAssertNotNil(step.randomDraw)
    }

    func testSameSeedSameChoicesAndDrawsFollowTheDistribution() {
        func run(seed: UInt64) -> [Int] {
            var sampler = Sampler(settings: SamplingSettings(temperature: 1, seed: seed))
            return (0..<4000).map { _ in sampler.sample(logits: logits).chosen }
        }
        let a = run(seed: 11)
        XCTAssertEqual(a, run(seed: 11))
        XCTAssertNotEqual(a, run(seed: 12))
        let probabilities = softmaxDouble(logits)
        for id in logits.indices {
            let frequency = Double(a.filter { $0 == id }.count) / Double(a.count)
            // 4000 draws: a standard error of at most 0.008; allow 4 of them.
            XCTAssertEqual(frequency, probabilities[id], accuracy: 0.032, "token \(id)")
        }
    }

    func testHighTemperatureFlattens() {
        var cold = Sampler(settings: SamplingSettings(temperature: 0.5))
        var hot = Sampler(settings: SamplingSettings(temperature: 2))
        let coldTop = cold.sample(logits: logits).afterTemperature[0].probability
        let hotTop = hot.sample(logits: logits).afterTemperature[0].probability
        XCTAssertGreaterThan(coldTop, hotTop)
    }

    /// The error names the setting; each interface names it its own way (a flag, a stepper word).
    func testValidationNamesTheSetting() {
        let bad: [(SamplingSettings, SamplingSetting, String)] = [
            (SamplingSettings(temperature: -1), .temperature, "-1.0"), (SamplingSettings(temperature: .nan), .temperature, "nan"),
            (SamplingSettings(topK: -3), .topK, "-3"), (SamplingSettings(topP: 0), .topP, "0.0"),
            (SamplingSettings(topP: 1.5), .topP, "1.5")
        ]
        for (settings, setting, value) in bad {
            XCTAssertThrowsError(try settings.validate()) { error in
                guard case .outOfRange(let named, let shown, _)? = error as? SamplingError else { return XCTFail("\(error)") }
                XCTAssertEqual(named, setting)
                XCTAssertEqual(shown, value)
                XCTAssertTrue(
                    (error as! SamplingError).description { "--" + $0.rawValue }.hasPrefix("--\(setting.rawValue) \(value) is out of range")
                )
            }
        }
        XCTAssertNoThrow(try SamplingSettings(temperature: 0.7, topK: 40, topP: 0.9).validate())
    }

    func softmaxDouble(_ values: [Float]) -> [Double] {
        let m = Double(values.max()!)
        let e = values.map { exp(Double($0) - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}

final class StopStringFilterTests: XCTestCase {
    func testHoldsBackAPossibleStartAndCutsAtTheStop() {
        var filter = StopStringFilter(stops: ["###"])
        XCTAssertEqual(filter.append("Hello #").release, "Hello ")
        XCTAssertEqual(filter.append("#").release, "")
        let (release, stopped) = filter.append("# more")
        XCTAssertEqual(release, "")
        XCTAssertTrue(stopped)
    }

    func testReleasesHeldTextWhenItTurnsOutNotToBeAStop() {
        var filter = StopStringFilter(stops: ["###", "END"])
        XCTAssertEqual(filter.append("a #").release, "a ")
        XCTAssertEqual(filter.append("#x").release, "##x")
        XCTAssertEqual(filter.append("the EN").release, "the ")
        XCTAssertEqual(filter.finish(), "EN")
    }

    func testEarliestOfSeveralStopsWins() {
        var filter = StopStringFilter(stops: ["b", "a"])
        let (release, stopped) = filter.append("xyzab")
        XCTAssertEqual(release, "xyz")
        XCTAssertTrue(stopped)
    }
}

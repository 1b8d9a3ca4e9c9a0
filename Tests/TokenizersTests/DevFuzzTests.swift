// DEV ONLY (not for the repo): compares against /work/tokdev/ref/fuzz.jsonl made with Python's regex module.
import Foundation
import XCTest
@testable import Tokenizers

final class DevFuzzTests: XCTestCase {
    struct Case: Decodable { var text: String; var pre: [[String]]; var ids: [Int] }
    func testFuzz() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "/work/tokdev/ref/fuzz.jsonl"))
        let tokenizer = try SharedData.gpt2()
        var bad = 0
        for line in data.split(separator: UInt8(ascii: "\n")) {
            let c = try JSONDecoder().decode(Case.self, from: Data(line))
            let segs = splitScalars(c.text)
            let pre = segs.map { GPT2PreTokenizer.words(in: $0) }
            let ids = tokenizer.encode(c.text)
            if pre != c.pre || ids != c.ids {
                bad += 1
                if bad < 10 { print("MISMATCH", escaped(c.text), pre.map { $0.map(escaped) }, c.pre.map { $0.map(escaped) }, ids, c.ids) }
            }
            XCTAssertEqual(Array(tokenizer.decode(ids).utf8), Array(c.text.utf8))
        }
        XCTAssertEqual(bad, 0)
    }
}

func splitScalars(_ text: String) -> [String] {
    let sep = Array("<|endoftext|>".unicodeScalars)
    let sc = Array(text.unicodeScalars)
    var out: [String] = []; var cur = String.UnicodeScalarView(); var i = 0
    while i < sc.count {
        if i + sep.count <= sc.count && Array(sc[i..<i+sep.count]) == sep { out.append(String(cur)); cur = String.UnicodeScalarView(); i += sep.count }
        else { cur.append(sc[i]); i += 1 }
    }
    out.append(String(cur)); return out
}

final class DevLlamaFuzzTests: XCTestCase {
    struct Case: Decodable { var file: String; var text: String; var ids: [Int] }
    func testFuzz() throws {
        let tok = try SharedData.tok512()
        let syn = try Llama2cTokenizer.load(URL(fileURLWithPath: "/work/tokdev/ref/synthetic.bin"))
        var bad = 0
        let data = try Data(contentsOf: URL(fileURLWithPath: "/work/tokdev/ref/llama_fuzz.jsonl"))
        for line in data.split(separator: UInt8(ascii: "\n")) {
            let c = try JSONDecoder().decode(Case.self, from: Data(line))
            let t = c.file == "tok512" ? tok : syn
            let ids = t.encode(c.text)
            if ids != c.ids { bad += 1; if bad < 10 { print("LMISMATCH", c.file, escaped(c.text), ids, c.ids) } }
        }
        XCTAssertEqual(bad, 0)
    }
}

final class DevBPEFuzzTests: XCTestCase {
    struct File: Decodable { var pieces: [String]; var merges: [[String]]; var cases: [C] }
    struct C: Decodable { var word: String; var pieces: [String] }
    func testFuzz() throws {
        let f = try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: "/work/tokdev/ref/bpe_fuzz.json")))
        var vocabulary: [String: Int] = [:]
        for byte in 0..<256 { vocabulary[ByteLevel.piece(ofBytes: [UInt8(byte)])] = byte }
        vocabulary["<|endoftext|>"] = 256
        for (i, p) in f.pieces.enumerated() { vocabulary[p] = 257 + i }
        let t = try GPT2Tokenizer(vocabulary: vocabulary, merges: f.merges.map { ($0[0], $0[1]) })
        var bad = 0
        for c in f.cases {
            let got = t.encode(c.word).map { t.vocabularyPiece($0)! }
            if got != c.pieces { bad += 1; if bad < 5 { print("BMISMATCH", c.word, got, c.pieces) } }
        }
        XCTAssertEqual(bad, 0)
    }
}

import Foundation
import Testing
import Translation

@Suite struct BytePairEncodingTests {
    static let corpus = [
        "A man in an orange hat starring at something.",
        "A Boston Terrier is running on lush green grass in front of a white fence.",
        "Ein Mann mit einem orangefarbenen Hut, der etwas anstarrt.",
        "Zwei Männer stehen am Herd und bereiten Essen zu.",
        "A man is standing at the stove, cooking food.",
        "Two men are standing at the stove preparing food.",
    ]

    @Test func roundTripIsExactIncludingUnseenCharacters() {
        let bpe = BytePairEncoding.learn(Self.corpus, merges: 60, minimumFrequency: 1)
        #expect(bpe.merges.count == 60)
        #expect(BytePairEncoding.learn(Self.corpus, merges: 60).merges.count < 60, "pairs seen once are not merged by default")
        for text in Self.corpus + ["Ünseen çharacters — and emoji 🙂 survive!", "x", "A man... (a MAN)!", "120\u{00A0}cm"] {
            let ids = bpe.encode(text)
            #expect(bpe.decode(ids) == text, "\(text)")
            #expect(!ids.contains(BytePairEncoding.pad) && !ids.contains(BytePairEncoding.bos))
        }
        #expect(bpe.decode(bpe.encode("  two   spaces  ")) == "two spaces", "runs of spaces read as one space")
    }

    @Test func mergesShortenFrequentWordsAndAreDeterministic() {
        let a = BytePairEncoding.learn(Self.corpus, merges: 80), b = BytePairEncoding.learn(Self.corpus, merges: 80)
        #expect(a.pieces == b.pieces)
        #expect(a.encode("standing").count < Array("▁standing").count)
        #expect(a.encode("standing").count <= 2)
    }

    @Test func saveAndLoadGiveTheSameSegmentation() throws {
        let bpe = BytePairEncoding.learn(Self.corpus, merges: 50)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bpe-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try bpe.save(to: path)
        let loaded = try BytePairEncoding.load(path)
        #expect(loaded.pieces == bpe.pieces)
        for text in Self.corpus { #expect(loaded.encode(text) == bpe.encode(text)) }
        try "{\"format\": \"other\"}".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: VocabularyError.self) { _ = try BytePairEncoding.load(path) }
    }

    /// The same vocabulary gives the same bytes in every process (its keys sorted, not in the
    /// per-process order of a hashed dictionary): runs compare vocabularies by SHA-256, and a
    /// comparison continued with --from compares the file's text.
    @Test func savedKeysAreSortedSoTheBytesRepeat() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bpe-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try BytePairEncoding.learn(Self.corpus, merges: 20).save(to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let keys = ["\"format\"", "\"merges\"", "\"pieces\""].map { text.range(of: $0)?.lowerBound }
        #expect(keys.allSatisfy { $0 != nil } && keys == keys.sorted { $0! < $1! }, "top-level keys in sorted order")
    }

    /// Every validation sentence of the real corpus decodes back exactly.
    @Test func multi30kValidationRoundTrips() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = root.deletingLastPathComponent().appendingPathComponent("shared/data/multi30k").path
        try #require(FileManager.default.fileExists(atPath: data), "the shared corpus sits beside the repository")
        let val = try CorpusReader.load(directory: data, split: "val", source: "en", target: "de")
        let bpe = BytePairEncoding.learn(Array(val.source.prefix(500)) + Array(val.target.prefix(500)), merges: 500)
        let failures = (val.source + val.target).filter { bpe.decode(bpe.encode($0)) != $0 }
        #expect(failures.isEmpty, "\(failures.prefix(3).map { Array($0.unicodeScalars).map { String($0.value, radix: 16) } })")
    }
}

import Foundation
import TensorCore

/// Subword vocabulary learned by byte-pair encoding (Sennrich et al. 2016) in the
/// SentencePiece convention: a word starts with "▁" (U+2581), so decoding is concatenation
/// plus "▁" -> " ", and text comes back exactly (runs of spaces are read as one space).
/// Characters never seen in training are spelled as UTF-8 byte tokens `<0xNN>`, so no input
/// is lost to an unknown token.
public struct BytePairEncoding: Sendable {
    public static let wordStart: Character = "\u{2581}"
    public static let pad: Int32 = 0, bos: Int32 = 1, eos: Int32 = 2
    static let specials = ["<pad>", "<s>", "</s>"]
    static let byteBase = 3

    /// Pieces by id: specials, 256 byte tokens, characters, then one piece per merge.
    public let pieces: [String]
    /// Merges in the order learned (rank = index).
    public let merges: [(String, String)]
    private let ids: [String: Int32]
    private let ranks: [String: Int]

    public var count: Int { pieces.count }

    public init(pieces: [String], merges: [(String, String)]) {
        self.pieces = pieces
        self.merges = merges
        var ids: [String: Int32] = [:]
        for (i, piece) in pieces.enumerated() where ids[piece] == nil { ids[piece] = Int32(i) }
        self.ids = ids
        var ranks: [String: Int] = [:]
        for (rank, merge) in merges.enumerated() { ranks[merge.0 + "\u{0}" + merge.1] = rank }
        self.ranks = ranks
    }

    /// Longest run of characters segmented as one word. Merging is quadratic in a word's
    /// length, so a megabyte without a space (a base64 blob in a corpus) would stall
    /// learning and encoding; no natural-language word comes near this.
    static let maxWordCharacters = 64

    /// Words of a sentence with their "▁" prefix; runs of spaces (U+0020) separate words.
    /// Other white space (a no-break space in "120 cm") is kept as a character of its word.
    /// A word longer than `maxWordCharacters` continues in further pieces without the
    /// prefix, so decoding joins them back into the word.
    static func words(_ text: String) -> [String] {
        text.split(separator: " ").flatMap { word -> [String] in
            let first = String(wordStart) + word.prefix(maxWordCharacters)
            guard word.count > maxWordCharacters else { return [first] }
            var rest = word.dropFirst(maxWordCharacters), pieces = [first]
            while !rest.isEmpty {
                pieces.append(String(rest.prefix(maxWordCharacters)))
                rest = rest.dropFirst(maxWordCharacters)
            }
            return pieces
        }
    }

    // MARK: - Learning

    /// Learns `mergeCount` merges from `sentences` (fewer if pairs run out before; pairs seen
    /// fewer than `minimumFrequency` times are not merged). Deterministic: ties go to the
    /// pair that sorts first.
    public static func learn(_ sentences: [String], merges mergeCount: Int, minimumFrequency: Int = 2) -> BytePairEncoding {
        var wordFrequency: [String: Int] = [:]
        for sentence in sentences { for word in words(sentence) { wordFrequency[word, default: 0] += 1 } }
        let vocabularyWords = wordFrequency.keys.sorted()
        var symbolNames: [String] = []
        var symbolIDs: [String: Int] = [:]
        func symbol(_ name: String) -> Int {
            if let id = symbolIDs[name] { return id }
            symbolIDs[name] = symbolNames.count
            symbolNames.append(name)
            return symbolNames.count - 1
        }
        var sequences = vocabularyWords.map { $0.map { symbol(String($0)) } }
        let frequencies = vocabularyWords.map { wordFrequency[$0]! }
        let characters = symbolNames.sorted()

        func key(_ a: Int, _ b: Int) -> UInt64 { UInt64(a) << 32 | UInt64(b) }
        var pairCounts: [UInt64: Int] = [:]
        var pairWords: [UInt64: Set<Int>] = [:]
        for (w, sequence) in sequences.enumerated() where sequence.count > 1 {
            for i in 0..<(sequence.count - 1) {
                let k = key(sequence[i], sequence[i + 1])
                pairCounts[k, default: 0] += frequencies[w]
                pairWords[k, default: []].insert(w)
            }
        }
        // Max-heap of (count, pair) with lazy deletion: an entry is current only if its
        // count still equals the pair's count.
        var heap = PairHeap(names: { symbolNames[Int($0 >> 32)] + "\u{0}" + symbolNames[Int($0 & 0xFFFF_FFFF)] })
        for (k, c) in pairCounts { heap.push(count: c, pair: k) }
        var learned: [(String, String)] = []
        while learned.count < mergeCount, let top = heap.pop() {
            guard pairCounts[top.pair] == top.count else { continue }
            if top.count < minimumFrequency { break }
            let (a, b) = (Int(top.pair >> 32), Int(top.pair & 0xFFFF_FFFF))
            let merged = symbol(symbolNames[a] + symbolNames[b])
            learned.append((symbolNames[a], symbolNames[b]))
            var touched: [UInt64: Int] = [:]
            for w in pairWords[top.pair] ?? [] {
                let old = sequences[w]
                var new: [Int] = []
                new.reserveCapacity(old.count)
                var i = 0
                while i < old.count {
                    if i + 1 < old.count && old[i] == a && old[i + 1] == b {
                        new.append(merged)
                        i += 2
                    } else {
                        new.append(old[i])
                        i += 1
                    }
                }
                for i in 0..<(old.count - 1) {
                    let k = key(old[i], old[i + 1])
                    pairCounts[k, default: 0] -= frequencies[w]
                    touched[k] = pairCounts[k]
                }
                if new.count > 1 {
                    for i in 0..<(new.count - 1) {
                        let k = key(new[i], new[i + 1])
                        pairCounts[k, default: 0] += frequencies[w]
                        pairWords[k, default: []].insert(w)
                        touched[k] = pairCounts[k]
                    }
                }
                sequences[w] = new
            }
            for (k, c) in touched where c > 0 { heap.push(count: c, pair: k) }
            pairCounts[top.pair] = 0
        }
        let bytePieces = (0..<256).map { String(format: "<0x%02X>", $0) }
        let mergedPieces = learned.map { $0.0 + $0.1 }
        return BytePairEncoding(pieces: specials + bytePieces + characters + mergedPieces, merges: learned)
    }

    // MARK: - Encoding and decoding

    /// Token ids of `text` (no BOS/EOS).
    public func encode(_ text: String) -> [Int32] {
        var out: [Int32] = []
        for word in Self.words(text) {
            for piece in segment(word) {
                if let id = ids[piece] {
                    out.append(id)
                } else {
                    out += piece.utf8.map { Int32(Self.byteBase + Int($0)) }
                }
            }
        }
        return out
    }

    /// Applies the merges to one word, lowest rank first (the order they were learned).
    func segment(_ word: String) -> [String] {
        var symbols = word.map { String($0) }
        while symbols.count > 1 {
            var best = Int.max, at = -1
            for i in 0..<(symbols.count - 1) {
                if let rank = ranks[symbols[i] + "\u{0}" + symbols[i + 1]], rank < best { best = rank; at = i }
            }
            if at < 0 { break }
            symbols[at] += symbols[at + 1]
            symbols.remove(at: at + 1)
        }
        return symbols
    }

    /// Text of `ids`: pieces concatenated, "▁" read as a space, byte tokens decoded as
    /// UTF-8, specials dropped.
    public func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            let i = Int(id)
            guard i >= Self.specials.count, i < pieces.count else { continue }
            if i < Self.byteBase + 256 {
                bytes.append(UInt8(i - Self.byteBase))
            } else {
                bytes += Array(pieces[i].utf8)
            }
        }
        let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: String(Self.wordStart), with: " ")
        return text.hasPrefix(" ") ? String(text.dropFirst()) : text
    }

    // MARK: - Files

    struct File: Codable {
        let format: String
        let pieces: [String]
        let merges: [[String]]
    }

    /// Saves as JSON, atomically.
    public func save(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let file = File(format: "revsearch-bpe-1", pieces: pieces, merges: merges.map { [$0.0, $0.1] })
        try AtomicWrite.write(try encoder.encode(file), to: path)
    }

    public static func load(_ path: String) throws -> BytePairEncoding {
        guard let data = FileManager.default.contents(atPath: path) else { throw VocabularyError("\(path): cannot read the vocabulary") }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch {
            throw VocabularyError("\(path): not a RevSearch BPE vocabulary (expected JSON with format, pieces, merges): \(DecodingErrorText.describe(error))")
        }
        guard file.format == "revsearch-bpe-1" else { throw VocabularyError("\(path): format '\(file.format)', expected revsearch-bpe-1") }
        guard file.pieces.count >= byteBase + 256, Array(file.pieces.prefix(3)) == specials else {
            throw VocabularyError("\(path): pieces must start with \(specials) and 256 byte tokens")
        }
        for (i, merge) in file.merges.enumerated() where merge.count != 2 {
            throw VocabularyError("\(path): merges[\(i)] must hold two pieces")
        }
        return BytePairEncoding(pieces: file.pieces, merges: file.merges.map { ($0[0], $0[1]) })
    }
}

public struct VocabularyError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A binary max-heap of (count, pair) for BPE learning; ties go to the pair whose names
/// sort first, so learning is deterministic.
struct PairHeap {
    private var items: [(count: Int, pair: UInt64)] = []
    let names: (UInt64) -> String

    init(names: @escaping (UInt64) -> String) { self.names = names }

    private func above(_ x: (count: Int, pair: UInt64), _ y: (count: Int, pair: UInt64)) -> Bool {
        x.count != y.count ? x.count > y.count : names(x.pair) < names(y.pair)
    }

    mutating func push(count: Int, pair: UInt64) {
        items.append((count, pair))
        var i = items.count - 1
        while i > 0, above(items[i], items[(i - 1) / 2]) {
            items.swapAt(i, (i - 1) / 2)
            i = (i - 1) / 2
        }
    }

    mutating func pop() -> (count: Int, pair: UInt64)? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        items[0] = items[items.count - 1]
        items.removeLast()
        var i = 0
        while true {
            let (l, r) = (2 * i + 1, 2 * i + 2)
            var best = i
            if l < items.count, above(items[l], items[best]) { best = l }
            if r < items.count, above(items[r], items[best]) { best = r }
            if best == i { break }
            items.swapAt(i, best)
            i = best
        }
        return top
    }
}

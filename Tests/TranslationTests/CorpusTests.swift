import Foundation
import Testing
import Translation

@Suite struct CorpusTests {
    func directory(_ files: [String: String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
        return dir.path
    }

    func gzip(_ path: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = [path]
        try process.run()
        process.waitUntilExit()
    }

    @Test func readsPlainAndGzipAndSkipsEmptyPairs() throws {
        let dir = try directory(["train.en": "A dog runs.\n\nTwo cats.\r\nA bird.\n", "train.de": "Ein Hund rennt.\nLeer.\nZwei Katzen.\n\n"])
        try gzip(dir + "/train.de")
        let corpus = try CorpusReader.load(directory: dir, split: "train", source: "en", target: "de")
        #expect(corpus.source == ["A dog runs.", "Two cats."])
        #expect(corpus.target == ["Ein Hund rennt.", "Zwei Katzen."])
        #expect(corpus.skippedEmpty == 2)
    }

    @Test func errorsNameFilesLinesAndCounts() throws {
        let dir = try directory(["a.en": "one\ntwo\nthree\n", "a.de": "eins\nzwei\n", "b.en": "ok\n", "b.de": "", "c.en": "fine\n"])
        try Data([0x6F, 0x6B, 0x0A, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: dir + "/c.de"))
        func message(_ split: String) -> String {
            do { _ = try CorpusReader.load(directory: dir, split: split, source: "en", target: "de"); return "no error" }
            catch { return "\(error)" }
        }
        #expect(message("a").contains("a.en has 3 lines") && message("a").contains("a.de has 2"), "\(message("a"))")
        #expect(message("b").contains("b.de: the file is empty"))
        #expect(message("c").contains("c.de: line 2 is not valid UTF-8"))
        #expect(message("d").contains("no d file for language 'en'") && message("d").contains("d.en.gz"))
    }
}

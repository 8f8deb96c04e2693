import Foundation
import TensorCore
import Testing

/// Digests against FIPS 180-4's examples and Python's hashlib (what `sha256sum` prints),
/// including input fed in pieces that straddle the 64-byte blocks.
@Suite struct SHA256Tests {
    @Test func knownDigests() {
        #expect(SHA256.hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func piecesGiveTheDigestOfTheWhole() {
        let data = Data((0..<100_003).map { UInt8(($0 * 7 + 3) % 256) })
        let expected = "b4bec991fc613fcb4d2a26eb529e493ed4e3152cc00f0a49bd39b3e48b34824e"
        #expect(SHA256.hex(data) == expected)
        var hasher = SHA256()
        var offset = 0
        for size in [1, 63, 64, 65, 127, 1000, 5] where offset < data.count {
            hasher.update(data.subdata(in: offset..<min(offset + size, data.count)))
            offset += size
        }
        hasher.update(data.subdata(in: offset..<data.count))
        #expect(hasher.finalizeHex() == expected)
    }
}

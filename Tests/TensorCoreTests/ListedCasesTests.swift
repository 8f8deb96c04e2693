import Foundation
import TensorCore
import Testing

/// A raw-value enum read from a file names its valid values when the file holds another.
@Suite struct ListedCasesTests {
    struct Record: Decodable { let dtype: DType }

    @Test func anUnknownValueListsTheValidOnes() throws {
        #expect(try JSONDecoder().decode(Record.self, from: Data(#"{"dtype": "float64"}"#.utf8)).dtype == .float64)
        do {
            _ = try JSONDecoder().decode(Record.self, from: Data(#"{"dtype": "float16"}"#.utf8))
            Issue.record("float16 was accepted")
        } catch {
            #expect(DecodingErrorText.describe(error) == "field 'dtype': expected one of float32, float64, found float16")
        }
    }
}

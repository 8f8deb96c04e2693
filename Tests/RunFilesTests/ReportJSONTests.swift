import Foundation
import RunFiles
import Testing

@Suite struct ReportJSONTests {
    struct Report: Encodable {
        let measured: Double
        let overflowed: Double
        let unmeasured: Double
        let label: String
    }

    /// NaN and infinities are null, never a string in a number's place; strings are untouched.
    @Test func nonFiniteValuesAreNull() throws {
        let data = try ReportJSON.encode(Report(measured: 1.5, overflowed: .infinity, unmeasured: .nan, label: "nan"))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(object?["measured"] as? Double == 1.5)
        #expect(object?["overflowed"] is NSNull && object?["unmeasured"] is NSNull)
        #expect(object?["label"] as? String == "nan")
        #expect((object?["written_by"] as? [String: String])?["version"] != nil)
    }

    /// A report that is an array or a plain value is written as it is: nothing to stamp.
    @Test func arraysAndValuesAreNotStamped() throws {
        let array = try JSONSerialization.jsonObject(with: try ReportJSON.encode([1.5, .nan])) as? [Any]
        #expect(array?.count == 2 && array?[1] is NSNull)
        #expect(String(decoding: try ReportJSON.encode(3), as: UTF8.self) == "3")
    }
}

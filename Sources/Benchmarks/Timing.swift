import Foundation

/// Wall-clock seconds of one call.
package func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Minor page faults of this process so far (getrusage): a fresh buffer's first touch of
/// each page costs one, and the kernel clears the page before handing it over.
package func minorPageFaults() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_minflt
}

/// The middle value (the upper middle of an even count); NaN for none.
package func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
}

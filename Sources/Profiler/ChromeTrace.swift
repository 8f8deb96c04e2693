import Foundation
import TensorCore

extension MemoryProfiler {
    /// Chrome trace-event JSON (opens in Perfetto and chrome://tracing): one counter track of
    /// live bytes per category, sampled at most `maxSamples` times (each sample keeps the
    /// largest value of its interval, so no peak disappears), plus an instant event at each
    /// change of step phase.
    public func chromeTrace(name: String, maxSamples: Int = 20_000) -> Data {
        var traceEvents: [[String: Any]] = [
            ["name": "process_name", "ph": "M", "pid": 1, "args": ["name": name]],
        ]
        guard let last = events.last else {
            return (try? JSONSerialization.data(withJSONObject: ["traceEvents": traceEvents])) ?? Data()
        }
        let interval = max(last.nanoseconds / UInt64(maxSamples), 1)
        var live: [MemoryCategory: Int] = [:]
        for (category, bytes) in baselineBytes { live[category] = bytes }
        var bucketMax = live, bucket: UInt64 = 0, phase = StepPhase.idle
        func emit(_ nanoseconds: UInt64, _ values: [MemoryCategory: Int]) {
            var args: [String: Int] = [:]
            for category in MemoryCategory.allCases { args[category.rawValue] = values[category] ?? 0 }
            traceEvents.append(["name": "live bytes", "ph": "C", "pid": 1, "ts": Double(nanoseconds) / 1000, "args": args])
        }
        for event in events {
            if event.phase != phase {
                phase = event.phase
                traceEvents.append(["name": phase.rawValue, "ph": "i", "s": "g", "pid": 1, "tid": 1,
                                    "ts": Double(event.nanoseconds) / 1000])
            }
            let b = event.nanoseconds / interval
            if b != bucket {
                emit(bucket * interval, bucketMax)
                bucket = b
                bucketMax = live
            }
            live[event.category, default: 0] += event.delta
            let total = live.values.reduce(0, +), totalMax = bucketMax.values.reduce(0, +)
            if total > totalMax { bucketMax = live }
        }
        emit(bucket * interval, bucketMax)
        emit(last.nanoseconds, live)
        return (try? JSONSerialization.data(withJSONObject: ["traceEvents": traceEvents, "displayTimeUnit": "ms"])) ?? Data()
    }
}

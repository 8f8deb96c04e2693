import Foundation
import Ops
import Reversible
import TensorCore

/// Parameter counts of models nobody needs to hold: built shape-only (no memory) on a
/// thread of their own, whose runtime no instrument of the calling run observes (a budget or
/// profiler attached to the run's thread would otherwise count the build).
enum ParameterCount {
    /// The weights (and alphas) of the reversible model `config` describes; nil if it cannot be built.
    static func of(_ config: ModelConfig, registry: OpRegistry) -> Int? {
        final class Result: @unchecked Sendable { var count: Int? }
        let result = Result(), done = DispatchSemaphore(value: 0)
        let thread = Thread {
            result.count = try? Runtime.current.shapeOnly {
                try ReversibleTransformer(config, registry: registry).parameters.map(\.tensor.count).reduce(0, +)
            }
            done.signal()
        }
        thread.start()
        done.wait()
        return result.count
    }
}

import Foundation
import TensorCore

/// A cap on the tensor memory the caching allocator holds from the system (blocks of every
/// category in use: parameters, gradients, activations, optimizer state, workspace, rounded
/// to their size class, and free blocks kept for reuse), enforced through the allocator
/// hooks. The cache never holds more than the most its blocks in use ever needed at once,
/// so the cap is on that peak, the same in every run of the same steps.
///
/// Observers hear of a reservation before the memory is taken, so the budget acts before
/// the process grows past it: it hands `onExceeded` a description of the layer, scope,
/// phase and bytes, and the default handler prints it and exits with status 3. A search
/// that would not fit stops with a message naming the layer, never with the kernel's OOM
/// kill; its logs and checkpoints, written line by line and atomically, stay intact.
public final class MemoryBudget: AllocationObserver {
    public struct Violation: Error, CustomStringConvertible, Sendable {
        public let budget: Int
        public let liveBytes: Int
        public let reservedBytes: Int
        public let requestedBytes: Int
        /// The segment the request needed from the system.
        public let blockBytes: Int
        public let category: MemoryCategory
        public let scope: String
        public let layer: String
        public let phase: StepPhase
        public let liveByCategory: [MemoryCategory: Int]

        public var description: String {
            let place = scope.isEmpty
                ? (phase == .idle ? "outside a training step (building the model or loading its weights)" : "outside any layer during \(phase)")
                : "layer \(layer) (scope \(scope)) during \(phase)"
            let parts = MemoryCategory.allCases.compactMap { c in liveByCategory[c].flatMap { $0 > 0 ? "\(c.rawValue) \(SVGChart.bytesText(Double($0)))" : nil } }
            return "memory budget of \(SVGChart.bytesText(Double(budget))) (\(budget) bytes) exceeded \(place): "
                + "\(requestedBytes) bytes of \(category.rawValue) asked for (a new segment of \(blockBytes)) with \(liveBytes) bytes live "
                + "and \(reservedBytes) reserved"
                + (parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))")
        }
    }

    public let budget: Int
    /// Tensor bytes live now.
    public private(set) var liveBytes = 0
    /// The most the cache held from the system while the budget was attached.
    public private(set) var peakBytes = 0
    /// Live bytes by `MemoryCategory.slot`: an array on the allocation path.
    private var liveBySlot = [Int](repeating: 0, count: MemoryCategory.allCases.count)
    /// Called once, before the allocation that would go over; must not return to let it
    /// proceed silently (the default prints and exits).
    public var onExceeded: (Violation) -> Never = { violation in
        FileHandle.standardError.write(Data("error: \(violation)\n".utf8))
        exit(3)
    }

    public init(bytes: Int) {
        budget = bytes
    }

    public func allocated(_ event: AllocationEvent) {
        liveBytes += event.bytes
        liveBySlot[event.category.slot] += event.bytes
    }

    public func reserving(_ bytes: Int, reservedBytes: Int, for event: AllocationEvent) {
        if reservedBytes + bytes > budget {
            let path = event.scope.path
            // The request itself is already counted live (observers hear of it first).
            var before = Dictionary(uniqueKeysWithValues: MemoryCategory.allCases.map { ($0, liveBySlot[$0.slot]) })
            before[event.category, default: 0] -= event.bytes
            onExceeded(Violation(budget: budget, liveBytes: liveBytes - event.bytes, reservedBytes: reservedBytes, requestedBytes: event.bytes,
                                 blockBytes: bytes, category: event.category, scope: path,
                                 layer: MemoryProfiler.layerName(ofPath: path), phase: event.phase, liveByCategory: before))
        }
        peakBytes = max(peakBytes, reservedBytes + bytes)
    }

    public func freed(_ event: AllocationEvent, phase: StepPhase) {
        liveBytes -= event.bytes
        liveBySlot[event.category.slot] -= event.bytes
    }

    /// "2GiB", "1.5 GB", "512MiB", "1000000": bytes (binary units for KiB/MiB/GiB and K/M/G,
    /// decimal for KB/MB/GB). Nil when the text is not a size.
    public static func parseSize(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(digits), value > 0 else { return nil }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let scale: Double
        switch unit {
        case "", "b": scale = 1
        case "k", "kib": scale = 1024
        case "m", "mib": scale = 1024 * 1024
        case "g", "gib": scale = 1024 * 1024 * 1024
        case "kb": scale = 1e3
        case "mb": scale = 1e6
        case "gb": scale = 1e9
        default: return nil
        }
        // Sizes beyond 2^62 bytes are no machine's: refused rather than overflowing Int.
        guard value * scale >= 1, value * scale < 0x1p62 else { return nil }
        return Int(value * scale)
    }
}

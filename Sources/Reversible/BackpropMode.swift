/// How a stack of reversible layers is differentiated.
public enum BackpropMode: Sendable, Equatable, CustomStringConvertible, Codable {
    /// Ordinary backprop: every activation of every layer kept on one tape.
    case full
    /// Only each stack's top output kept; every layer's input rebuilt in backward.
    case reconstruction
    /// Reconstruction, but the input of every k-th layer (layers 1, 1+k, 1+2k, ...) is
    /// also stored and used instead of its reconstruction, bounding float32 drift.
    case hybrid(every: Int)

    /// Every mode with its own trade-off of memory against recomputation for stacks of
    /// `depth` layers: full storage, hybrid:k for k = 1 ... depth (every k above `depth`
    /// stores layer 1's input alone, as k = depth does), and reconstruction.
    public static func planned(depth: Int) -> [BackpropMode] {
        [.full] + (1...max(depth, 1)).map { .hybrid(every: $0) } + [.reconstruction]
    }

    /// Parses `full`, `reconstruction`, `hybrid:K`.
    public init?(_ text: String) {
        switch text {
        case "full": self = .full
        case "reconstruction": self = .reconstruction
        default:
            guard text.hasPrefix("hybrid:"), let k = Int(text.dropFirst(7)), k >= 1 else { return nil }
            self = .hybrid(every: k)
        }
    }

    public var description: String {
        switch self {
        case .full: "full"
        case .reconstruction: "reconstruction"
        case .hybrid(let k): "hybrid:\(k)"
        }
    }

    /// Written as its text ("hybrid:2"); another text is an error naming the valid ones.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let mode = BackpropMode(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected full, reconstruction or hybrid:K (K >= 1), found \"\(text)\"")
        }
        self = mode
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// Whether layer `index` (0-based) has its input stored.
    func storesInput(ofLayer index: Int) -> Bool {
        if case .hybrid(let k) = self { return index % k == 0 }
        return false
    }
}

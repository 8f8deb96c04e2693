import Synchronization

/// A node of the scope tree (`encoder.layer1.split2.conv5`). Nodes are interned per
/// parent, so entering the same scope twice yields the same object and an observer can
/// group allocations by identity without comparing strings.
public final class Scope: @unchecked Sendable {
    public let name: String
    public let parent: Scope?
    /// A number no other scope of the process has: observers index arrays by it on the
    /// allocation path (an identifier of a freed scope could name a new one).
    public let serial: Int
    private static let made = Atomic<Int>(0)
    /// The dotted path from the root, e.g. `encoder.layer1.split2.conv5`; "" for the root.
    public let path: String
    private var children: [String: Scope] = [:]

    init(name: String, parent: Scope?) {
        self.name = name
        self.parent = parent
        serial = Scope.made.add(1, ordering: .relaxed).oldValue
        if let parent, !parent.path.isEmpty {
            path = parent.path + "." + name
        } else {
            path = name
        }
    }

    /// The interned child scope of that name. Not thread-safe: a scope tree belongs to
    /// one thread's `Runtime`.
    func child(_ name: String) -> Scope {
        if let existing = children[name] { return existing }
        let made = Scope(name: name, parent: self)
        children[name] = made
        return made
    }

    /// The path components from the root.
    public var components: [String] {
        path.isEmpty ? [] : path.split(separator: ".").map(String.init)
    }
}

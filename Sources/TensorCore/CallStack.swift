import CUnwind
import Glibc
import Synchronization

/// Return addresses of the frames that made an allocation, captured with libunwind.
/// Capturing is cheap (addresses only); names are resolved and demangled on demand,
/// once per address, because a profiler needs names only for the few sites it reports.
public struct CallStack: Hashable, Sendable {
    public let addresses: [UInt]

    /// Captures the current thread's stack, skipping `skip` innermost frames of the caller.
    @inline(never)
    public static func capture(skip: Int = 0, limit: Int = 48) -> CallStack {
        var buffer = [UInt](repeating: 0, count: limit)
        let count = buffer.withUnsafeMutableBufferPointer { pointer in
            revsearch_capture_stack(pointer.baseAddress, Int32(limit), Int32(skip + 1))
        }
        return CallStack(addresses: Array(buffer.prefix(Int(count))))
    }

    /// Demangled names of the frames, innermost first.
    public var symbols: [String] { addresses.map(CallStack.symbol(at:)) }

    private static let names = Mutex<[UInt: String]>([:])

    /// The demangled name of the function holding `address`, or the address in hex.
    public static func symbol(at address: UInt) -> String {
        if let known = names.withLock({ $0[address] }) { return known }
        var raw = [CChar](repeating: 0, count: 1024)
        var offset: UInt = 0
        let status = raw.withUnsafeMutableBufferPointer {
            revsearch_symbol_name(address, $0.baseAddress, $0.count, &offset)
        }
        let name: String
        if status == 0 {
            let mangled = raw.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            name = demangle(mangled)
        } else {
            name = "0x" + String(address, radix: 16)
        }
        names.withLock { $0[address] = name }
        return name
    }

    /// Swift names through the runtime's demangler; other names (C, C++) pass unchanged.
    public static func demangle(_ mangled: String) -> String {
        guard let demangled = mangled.withCString({ swift_demangle($0, strlen($0), nil, nil, 0) }) else {
            return mangled
        }
        defer { free(demangled) }
        return String(cString: demangled)
    }
}

@_silgen_name("swift_demangle")
private func swift_demangle(
    _ mangledName: UnsafePointer<CChar>?, _ mangledNameLength: Int,
    _ outputBuffer: UnsafeMutablePointer<CChar>?, _ outputBufferSize: UnsafeMutablePointer<Int>?,
    _ flags: UInt32
) -> UnsafeMutablePointer<CChar>?

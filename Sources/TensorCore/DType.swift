import CBLAS
import RealModule

/// Element type of a tensor: Float to train, Double to verify.
public enum DType: String, Sendable, Codable, ListedCases {
    case float32
    case float64

    /// Bytes per element.
    public var size: Int { self == .float32 ? 4 : 8 }

    /// Parses the spellings users type (`float32`, `f32`, `float`, `float64`, `f64`, `double`).
    public init?(name: String) {
        switch name.lowercased() {
        case "float32", "f32", "float": self = .float32
        case "float64", "f64", "double": self = .float64
        default: return nil
        }
    }
}

/// The two element types the kernels are written for. Kernels are generic over this
/// protocol and are specialised for Float and Double inside the module, so a numeric
/// loop never goes through a witness table per element.
public protocol TensorScalar: BinaryFloatingPoint, Real, Sendable {
    static var dtype: DType { get }

    /// C = alpha * op(A) * op(B) + beta * C, row-major, through OpenBLAS.
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension Float: TensorScalar {
    public static var dtype: DType { .float32 }

    @inlinable
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
}

extension Double: TensorScalar {
    public static var dtype: DType { .float64 }

    @inlinable
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
}

/// OpenBLAS settings that a run reports next to its figures.
public enum BLAS {
    /// The kernel family OpenBLAS picked for this CPU (or the one forced by OPENBLAS_CORETYPE).
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// Threads OpenBLAS uses inside one call.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }
}

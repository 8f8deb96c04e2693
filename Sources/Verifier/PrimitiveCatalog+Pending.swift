import TensorCore

// Filled by the primitives still being written; each moves to its own file.
extension PrimitiveCatalog {
    static var activationCases: [GradCheckCase] { [] }
    static var normalizationCases: [GradCheckCase] { [] }
    static var lossCases: [GradCheckCase] { [] }
    static var sequenceCases: [GradCheckCase] { [] }
    static var structuralCases: [GradCheckCase] { [] }
}

/// The model's non-smooth points — which side of zero a ReLU input is on, which input of a
/// max pooling wins — decided by someone other than the kernel. Two computations of the
/// same step that round differently (Float32 against Float64, reconstruction's
/// recomputation against the stored forward) can take different branches where a value
/// lies within rounding of the branch point, and one branch flipped moves a whole row of a
/// weight gradient. A checker attaches an implementation to `Runtime.branches` to record
/// the branches of one computation and replay them in another, so that what is left to
/// compare is rounding alone; the core only asks it, and knows nothing of who answers.
public protocol BranchDecisions: AnyObject {
    /// 1 where ReLU passes `x`, 0 where it blocks it, in x's shape and dtype.
    func reluMask(_ x: Tensor) -> Tensor
    /// For each input, 1 where it is the maximum and 0 elsewhere (exactly one 1 per element).
    func maxMasks(_ xs: [Tensor]) -> [Tensor]
}

import CustomOp
import Foundation
import InstrumentedRun
import Reversible
import Search
import Verifier

/// A short instrumented search with swish_ffn added to the search space, through
/// RevSearch's library alone:
///     swift run custom-op-search CORPUS_DIR RUN_DIR [STEPS]
/// (CORPUS_DIR holds train.en and train.de, e.g. the repository's Fixtures/toy.)
final class PrintedProgress: RunObserver {
    func observe(_ event: RunEvent) {
        switch event {
        case .started(let summary, _): print(summary)
        case .searchStep(let e):
            print("step \(e.step)/\(e.maxSteps): train \(fixed(e.trainLoss, 3)), validation \(fixed(e.validationLoss, 3))"
                  + (e.peakActivationBytes.map { ", peak activation \($0) bytes" } ?? ""))
        case .verified(let step, let report): print(report.line(step: step))
        case .trainingStep, .validated: break
        }
    }
}

let arguments = CommandLine.arguments
guard arguments.count >= 3, arguments.count <= 4, let steps = Int(arguments.count == 4 ? arguments[3] : "8"), steps > 0 else {
    FileHandle.standardError.write(Data("usage: custom-op-search CORPUS_DIR RUN_DIR [STEPS]\n".utf8))
    exit(64)
}
var settings = SearchRun.Settings(data: arguments[1], source: "en", target: "de", out: arguments[2])
settings.registry = .withSwish
settings.model = ModelConfig(embeddingWidth: 8, modelWidth: 24, splits: 2, encoderLayers: 2, decoderLayers: 2, heads: 2,
                             encoderOps: ["swish_ffn", "ffn", "conv3", "self_attn"], decoderOps: ["swish_ffn", "ffn", "conv3", "self_attn"])
settings.search.maxTokens = 128
settings.search.thetaWarmup = 4
settings.merges = 200
settings.maxSteps = steps
settings.verifyEvery = max(steps / 2, 1)
settings.profile = true
do {
    let outcome = try SearchRun(settings).run(observer: PrintedProgress())
    let swish = outcome.genotype.encoder.joined().filter { $0 == "swish_ffn" }.count + outcome.genotype.decoder.joined().filter { $0 == "swish_ffn" }.count
    print("genotype: \(SearchPaths(run: settings.out).genotype) (swish_ffn at \(swish) of 8 nodes); report: \(outcome.report)")
} catch let error as CheckFailed {
    FileHandle.standardError.write(Data("custom-op-search: \(error)\n".utf8))
    exit(1)
} catch {
    FileHandle.standardError.write(Data("custom-op-search: \(error)\n".utf8))
    exit(2)
}

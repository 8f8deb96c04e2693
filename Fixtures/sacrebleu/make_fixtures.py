#!/usr/bin/env python3
"""Writes the BLEU/chrF agreement fixtures and sacreBLEU's scores for them.

    python3 Fixtures/sacrebleu/make_fixtures.py      # needs sacrebleu (pip install sacrebleu)

Each case is <name>.hyp and <name>.ref (one sentence a line; a multi-reference case adds
<name>.ref2, <name>.ref3); expected.json holds what sacreBLEU's BLEU and CHRF report for
them, with their signatures. The noisy case perturbs German
sentences from ../shared/data/multi30k/val.de.gz with a seeded generator.

expected.json's "paired_bs" holds what sacreBLEU's paired bootstrap resampling test
(`sacrebleu REF -i BASELINE OTHER... -m bleu chrf --paired-bs`) reports for other systems
(<name>.sys2, <name>.sys3) against a case's hypotheses as the baseline, and "numpy_pcg64"
the first draws of numpy's default_rng, which that test resamples with."""
import gzip
import json
import os
import random

import numpy as np
import sacrebleu
from sacrebleu.significance import PairedTest

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "..", "..", "shared", "data", "multi30k", "val.de.gz")

CASES = {
    "punctuation": (
        ["The cat (a black one) sat -- on the mat!", "\"Quoted,\" she said; then: 'why?'", "Price: $3.50, or 3,000 yen.",
         "A well-known 10-year-old runs 5-6 km.", "Tom &amp; Jerry &lt;3 &quot;cartoons&quot; &gt; all", "<skipped> text"],
        ["The cat (a black one) sat on the mat!", "\"Quoted\", she said: 'why?'", "Price: $3.50 or 3,000 yen.",
         "A well-known 10-year old runs 5 - 6 km.", "Tom & Jerry <3 \"cartoons\" > all", "text"],
    ),
    "unicode": (
        ["Zwei Männer stehen am Herd.", "Ein Mädchen in einem rosa Kleid läuft über die Straße.", "Café crème à côté",
         "Ein Mann mit 120\u00a0cm Globus.", "Ünïcödé — dash… ellipsis"],
        ["Zwei Männer stehen an einem Herd.", "Ein kleines Mädchen in einem rosa Kleid läuft über die Straße.",
         "Cafe\u0301 crème à côté", "Ein Mann mit einem 120\u00a0cm großen Globus.", "Ünïcödé - dash ... ellipsis"],
    ),
    "short_and_empty": (
        ["", "Hund", "Ein Hund", "Eine Katze sitzt.", "x y z"],
        ["Ein Hund rennt.", "Ein Hund", "Ein Hund läuft schnell über die Wiese.", "Eine Katze sitzt auf dem Sofa.", "a b c"],
    ),
    "no_four_gram": (
        ["a b c d e", "b a d c"],
        ["a b x c d", "a b c d"],
    ),
}


def perturb(words, rng, vocab):
    """A hypothesis-like copy of a sentence: words dropped, replaced, inserted, swapped."""
    out = []
    for w in words:
        u = rng.random()
        if u < 0.08:
            continue
        if u < 0.16:
            out.append(rng.choice(vocab))
        else:
            out.append(w)
        if rng.random() < 0.05:
            out.append(rng.choice(vocab))
    if len(out) > 3 and rng.random() < 0.2:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return " ".join(out)


def validation_lines(start, count):
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        return [line.rstrip("\n") for i, line in enumerate(f) if start <= i < start + count]


def noisy_case(rng):
    refs = validation_lines(0, 300)
    vocab = sorted({w for r in refs for w in r.split()})
    return [perturb(r.split(), rng, vocab) for r in refs], refs


def multi_reference_case(rng):
    """Three reference streams (one true, two perturbed, so lengths differ and tie) for a
    perturbed hypothesis: sacreBLEU's clipping by the largest count over references, its
    closest reference length (ties to the shorter), and chrF's best reference per sentence."""
    refs = validation_lines(300, 200)
    vocab = sorted({w for r in refs for w in r.split()})
    second = [perturb(r.split(), rng, vocab) for r in refs]
    third = [perturb(r.split(), rng, vocab) for r in refs]
    hyps = [perturb(r.split(), rng, vocab) for r in refs]
    return hyps, [refs, second, third]


# Small multi-reference cases: a length tie between references (the shorter wins), an
# empty reference beside a real one, and a hypothesis matching only the second reference.
MULTI_CASES = {
    "multi_reference_small": (
        ["a b c", "the cat sat", "", "x y z w"],
        [["a b", "the cat sat on the mat", "", "p q r s"],
         ["a b c d", "a cat sat", "nothing here", "x y z w"]],
    ),
}


def main():
    rng = random.Random(1234)
    cases = {name: (hyps, [refs]) for name, (hyps, refs) in CASES.items()}
    cases["multi30k_noisy"] = tuple(x if i == 0 else [x] for i, x in enumerate(noisy_case(rng)))
    cases.update(MULTI_CASES)
    cases["multi30k_three_refs"] = multi_reference_case(random.Random(5678))
    expected = {"sacrebleu_version": sacrebleu.__version__, "cases": {}}
    for name, (hyps, ref_streams) in cases.items():
        streams = [("hyp", hyps)] + [("ref" if k == 0 else f"ref{k + 1}", refs) for k, refs in enumerate(ref_streams)]
        for suffix, lines in streams:
            with open(os.path.join(HERE, f"{name}.{suffix}"), "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
        bleu_metric, chrf_metric = sacrebleu.metrics.BLEU(), sacrebleu.metrics.CHRF()
        bleu = bleu_metric.corpus_score(hyps, ref_streams)
        chrf = chrf_metric.corpus_score(hyps, ref_streams)
        expected["cases"][name] = {
            "references": len(ref_streams),
            "bleu": bleu.score, "precisions": bleu.precisions, "bp": bleu.bp, "sys_len": bleu.sys_len,
            "ref_len": bleu.ref_len, "bleu_line": str(bleu), "chrf": chrf.score,
            "bleu_signature": str(bleu_metric.get_signature()), "chrf_signature": str(chrf_metric.get_signature()),
            "tokenized_hypotheses": [sacrebleu.tokenizers.tokenizer_13a.Tokenizer13a()(h.rstrip()) for h in hyps[:6]],
        }
    expected["paired_bs"] = paired_bs_cases(cases)
    expected["numpy_version"] = np.__version__
    expected["numpy_pcg64"] = numpy_draws()
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)


def other_systems(cases):
    """Systems to compare with each case's hypotheses: the references perturbed twice (worse
    than the baseline: a significant difference), the baseline with a tenth of its lines
    perturbed anew (close to it), the references perturbed anew (three references), and a
    hand-written one for a tiny case whose resamples tie often."""
    noisy_refs = cases["multi30k_noisy"][1][0]
    noisy_hyps = cases["multi30k_noisy"][0]
    vocab = sorted({w for r in noisy_refs for w in r.split()})
    rng = random.Random(4321)
    far = [perturb(perturb(r.split(), rng, vocab).split(), rng, vocab) for r in noisy_refs]
    rng = random.Random(8765)
    near = [perturb(r.split(), rng, vocab) if i % 10 == 0 else h for i, (h, r) in enumerate(zip(noisy_hyps, noisy_refs))]
    three_refs = cases["multi30k_three_refs"][1][0]
    rng = random.Random(9876)
    vocab = sorted({w for r in three_refs for w in r.split()})
    three_far = [perturb(r.split(), rng, vocab) for r in three_refs]
    return {
        "multi30k_noisy": {"sys2": far, "sys3": near},
        "multi30k_three_refs": {"sys2": three_far},
        "multi_reference_small": {"sys2": ["a b c d", "a cat sat on the mat", "", "x y q w"]},
    }


# (resamples, SACREBLEU_SEED) per paired case: the defaults, and others to check both are used.
PAIRED_SETTINGS = {"multi30k_noisy": (1000, "12345"), "multi30k_three_refs": (500, "2024"), "multi_reference_small": (1000, "12345")}


def paired_bs_cases(cases):
    out = {}
    for name, systems in other_systems(cases).items():
        hyps, ref_streams = cases[name]
        for suffix, lines in systems.items():
            with open(os.path.join(HERE, f"{name}.{suffix}"), "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
        resamples, seed = PAIRED_SETTINGS[name]
        os.environ["SACREBLEU_SEED"] = seed
        named = [(f"{name}.hyp", hyps)] + [(f"{name}.{suffix}", lines) for suffix, lines in systems.items()]
        metrics = {"BLEU": sacrebleu.metrics.BLEU(references=ref_streams), "CHRF": sacrebleu.metrics.CHRF(references=ref_streams)}
        signatures, scores = PairedTest(named, metrics, references=None, test_type="bs", n_samples=resamples)()
        out[name] = {
            "systems": [system for system, _ in named], "references": len(ref_streams), "resamples": resamples, "seed": seed,
            "signatures": {metric: str(signature) for metric, signature in signatures.items()},
            # float(): chrF's means and intervals are numpy float32 (sacreBLEU sums statistics as float32).
            "scores": {metric: [{"score": float(r.score), "mean": float(r.mean), "ci": float(r.ci),
                                 "p_value": None if r.p_value is None else float(r.p_value)} for r in results]
                       for metric, results in scores.items() if metric != "System"},
        }
    del os.environ["SACREBLEU_SEED"]
    return out


def numpy_draws():
    """default_rng(seed)'s raw 64-bit outputs, and choice(n, size=(rows, n)) as sacreBLEU calls
    it, flattened (first and last values): the 32-bit path, n = 1 (no draw), and the 64-bit
    path (n above 2^32, three columns).
    Seeds and raw outputs are strings: JSON numbers lose bits above 2^53."""
    raw = {str(seed): [str(x) for x in np.random.default_rng(seed).bit_generator.random_raw(8)]
           for seed in (12345, 0, 2**32 + 7, 2**64 - 1)}
    choices = []
    for seed, n, rows in ((12345, 300, 1000), (2024, 200, 500), (0, 7, 3), (5, 1, 4), (99, 2**33 + 5, 2)):
        values = np.random.default_rng(seed).choice(n, size=(rows, n if n < 1000 else 3), replace=True).ravel()
        choices.append({"seed": str(seed), "n": n, "rows": rows, "first": values[:60].tolist(), "last": values[-5:].tolist()})
    return {"raw": raw, "choices": choices}


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the BLEU/chrF agreement fixtures and sacreBLEU's scores for them.

    python3 Fixtures/sacrebleu/make_fixtures.py      # needs sacrebleu (pip install sacrebleu)

Each case is <name>.hyp and <name>.ref (one sentence a line); expected.json holds what
sacrebleu.corpus_bleu(hyps, [refs]) and corpus_chrf report. The noisy case perturbs German
sentences from ../shared/data/multi30k/val.de.gz with a seeded generator."""
import gzip
import json
import os
import random

import sacrebleu

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


def noisy_case(rng):
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        refs = [line.rstrip("\n") for _, line in zip(range(300), f)]
    vocab = sorted({w for r in refs for w in r.split()})
    hyps = []
    for r in refs:
        words = r.split()
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
        hyps.append(" ".join(out))
    return hyps, refs


def main():
    rng = random.Random(1234)
    cases = dict(CASES)
    cases["multi30k_noisy"] = noisy_case(rng)
    expected = {"sacrebleu_version": sacrebleu.__version__, "cases": {}}
    for name, (hyps, refs) in cases.items():
        for suffix, lines in (("hyp", hyps), ("ref", refs)):
            with open(os.path.join(HERE, f"{name}.{suffix}"), "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
        bleu = sacrebleu.corpus_bleu(hyps, [refs])
        chrf = sacrebleu.corpus_chrf(hyps, [refs])
        expected["cases"][name] = {
            "bleu": bleu.score, "precisions": bleu.precisions, "bp": bleu.bp, "sys_len": bleu.sys_len,
            "ref_len": bleu.ref_len, "bleu_line": str(bleu), "chrf": chrf.score,
            "tokenized_hypotheses": [sacrebleu.tokenizers.tokenizer_13a.Tokenizer13a()(h.rstrip()) for h in hyps[:6]],
        }
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()

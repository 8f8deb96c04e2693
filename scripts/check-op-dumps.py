#!/usr/bin/env python3
"""Checks `revsearch dump-ops` files against an independent NumPy implementation of every
candidate op (DESIGN.md section 4, PyTorch layouts): the forward output, and the gradients
of sum(output * grad_output) by central finite differences along random directions.

    revsearch dump-ops --out DIR --dtype float64
    python3 scripts/check-op-dumps.py DIR          # needs numpy and safetensors

`<op>[.causal].safetensors` hold one sentence [T, c] without masks. `<op>[.causal].padded.
safetensors` hold a ragged batch [B, T, c] (metadata `lengths`, and `memory_lengths` for
cross_attn's memory [B, S, d]) that the op saw under the model's masks. For those this script
rebuilds the masks from the lengths alone (the dumped `key_mask`, `position_mask`,
`memory_mask` must equal them), runs its NumPy forward under them (attention adds -inf at
padded keys; convolutions zero padded inputs, as OpContext.positionMask documents) and
compares:
  - real positions: the dumped output against the masked NumPy forward, and against the
    NumPy forward of each sentence cut to its own length (memory too), without any mask:
    padding must change nothing a sentence's real positions see;
  - padded positions: against the masked NumPy forward as well. The op defines them (its
    residual carries the padded row of H through the LayerNorm, attention's padded queries
    attend the real keys, a convolution's padded outputs see zeros at padded inputs) and the
    reversible inverse recomputes them with the same function, so a Swift forward that
    differs there departs from the definition even though no loss reads those rows;
  - gradients at every position: grad_output is random at padded positions too.

Exits 1 if any file disagrees."""
import glob
import os
import sys

import numpy as np
from safetensors import safe_open


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def shifted(x, offset):
    """x[:, t + offset] at every t of x [B, T, c], zeros outside the sequence."""
    out = np.zeros_like(x)
    t = x.shape[1]
    for i in range(t):
        if 0 <= i + offset < t:
            out[:, i] = x[:, i + offset]
    return out


def masks(lengths, length):
    """Additive [B, 1, 1, L] (0 real, -inf padding) and positional [B, L, 1] (1 real, 0 padding)."""
    real = np.arange(length)[None, :] < np.asarray(lengths)[:, None]
    return np.where(real, 0.0, -np.inf)[:, None, None, :], real[:, :, None].astype(float)


def conv(x, p, width, causal, positions):
    if positions is not None:
        x = x * positions                               # padded inputs are zeros
    pad = width - 1 if causal else (width - 1) // 2
    w, b = p["conv.weight"], p["conv.bias"]             # [out, in, width], Conv1d layout
    y = sum(shifted(x, j - pad) @ w[:, :, j].T for j in range(width)) + b
    return np.maximum(y, 0)


def dynconv(x, p, width, heads, causal, positions):
    if positions is not None:
        x = x * positions
    bsz, t, c = x.shape
    pad = width - 1 if causal else (width - 1) // 2
    a = x @ p["linear1.weight"].T                       # c -> 2c, then GLU
    a = a[..., :c] * sigmoid(a[..., c:])
    k = softmax((x @ p["weight_linear.weight"].T).reshape(bsz, t, heads, width), axis=-1)   # over the taps
    per_head = np.repeat(k, c // heads, axis=2)         # [B, T, c, w]: channel ch uses head ch // (c / h)
    out = sum(per_head[..., j] * shifted(a, j - pad) for j in range(width))
    return out @ p["linear2.weight"].T


def attention(x, source, p, heads, causal, key_mask):
    bsz, t, c = x.shape
    dh = c // heads

    def split(y):                                       # [B, L, c] -> [B, heads, L, dh]
        return y.reshape(bsz, -1, heads, dh).transpose(0, 2, 1, 3)

    q = split(x @ p["q_proj.weight"].T)
    k = split(source @ p["k_proj.weight"].T)
    v = split(source @ p["v_proj.weight"].T)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh)  # [B, heads, T, S]
    if key_mask is not None:
        scores = scores + key_mask
    if causal:
        scores = scores + np.triu(np.full((t, t), -np.inf), 1)
    out = (softmax(scores) @ v).transpose(0, 2, 1, 3).reshape(bsz, t, c)
    return out @ p["out_proj.weight"].T


def op_forward(meta, x, memory, p, lengths=None, memory_lengths=None):
    """The wrapped op on x [B, T, c] (memory [B, S, d]); with `lengths`, under padding masks."""
    name, causal, heads = meta["op"], meta["causal"] == "true", int(meta["heads"])
    key_mask, positions, memory_mask = None, None, None
    if lengths is not None:
        key_mask, positions = masks(lengths, x.shape[1])
        if memory is not None:
            memory_mask, _ = masks(memory_lengths, memory.shape[1])
    if name == "zero":
        return np.zeros_like(x)
    if name == "identity":
        return x
    if name.startswith("dynconv"):
        o = dynconv(x, p, int(meta["width"]), heads, causal, positions)
    elif name.startswith("conv"):
        o = conv(x, p, int(meta["width"]), causal, positions)
    elif name == "self_attn":
        o = attention(x, x, p, heads, causal, key_mask)
    elif name == "cross_attn":
        o = attention(x, memory, p, heads, False, memory_mask)
    elif name == "glu":
        o = (x @ p["linear_a.weight"].T + p["linear_a.bias"]) * sigmoid(x @ p["linear_b.weight"].T + p["linear_b.bias"])
    elif name == "ffn":
        o = np.maximum(x @ p["fc1.weight"].T + p["fc1.bias"], 0) @ p["fc2.weight"].T + p["fc2.bias"]
    else:
        raise ValueError(f"unknown op {name}")
    assert meta["wrapped"] == "true"
    return layer_norm(x + o, p["norm.weight"], p["norm.bias"], float(meta["eps"]))


def parse_lengths(meta, key):
    return [int(v) for v in meta[key].split(",")] if key in meta else None


def check(path, rng):
    """(forward error at real positions, at padded positions or None, gradient FD error, problems)."""
    with safe_open(path, "np") as f:
        meta = f.metadata()
        t = {k: f.get_tensor(k) for k in f.keys()}
    params = {k[len("param."):]: v for k, v in t.items() if k.startswith("param.")}
    lengths, memory_lengths = parse_lengths(meta, "lengths"), parse_lengths(meta, "memory_lengths")
    padded = lengths is not None
    problems = []
    # A batch of one without masks is the padded case with every position real.
    batched = (lambda a: a) if padded else (lambda a: None if a is None else a[None])
    x, memory, target, cotangent = (batched(t.get(k)) for k in ("input", "memory", "output", "grad_output"))
    real = np.arange(x.shape[1])[None, :] < np.asarray(lengths if padded else [x.shape[1]])[:, None]
    scale = max(np.abs(target).max(), 1e-300)
    if padded:
        if memory is not None and memory_lengths is None:
            problems.append("memory without memory_lengths")
        expected = dict(zip(("key_mask", "position_mask"), masks(lengths, x.shape[1])))
        if memory is not None and memory_lengths is not None:
            expected["memory_mask"] = masks(memory_lengths, memory.shape[1])[0]
        for name, mask in expected.items():
            if name not in t or t[name].shape != mask.shape or not np.array_equal(t[name], mask):
                problems.append(f"{name} is not the mask of the lengths")
        if problems:
            return float("nan"), float("nan"), float("nan"), problems

    ours = op_forward(meta, x, memory, params, lengths, memory_lengths)
    difference = np.abs(ours - target)
    real_error = difference[real].max() / scale
    pad_error = difference[~real].max() / scale if (~real).any() else None
    if padded:
        # Each sentence alone, cut to its length, with no mask: what padding must not change.
        for b, n in enumerate(lengths):
            m = None if memory is None else memory[b:b + 1, :memory_lengths[b]]
            alone = op_forward(meta, x[b:b + 1, :n], m, params)
            real_error = max(real_error, np.abs(alone[0] - target[b, :n]).max() / scale)

    # Directional derivatives of L = sum(op(...) * grad_output) with our NumPy forward,
    # against the dumped gradients, for the input, the memory and every parameter.
    def loss(x_, m_, p_):
        return float((op_forward(meta, x_, m_, p_, lengths, memory_lengths) * cotangent).sum())

    worst = 0.0
    wrt = ["input"] + (["memory"] if memory is not None else []) + [f"param.{k}" for k in params]
    eps = 1e-6
    for name in wrt:
        base = {"input": x, "memory": memory}.get(name, t[name])
        u = rng.standard_normal(base.shape)

        def at(step):
            x_, m_, p_ = x, memory, dict(params)
            moved = base + step * u
            if name == "input":
                x_ = moved
            elif name == "memory":
                m_ = moved
            else:
                p_[name[len("param."):]] = moved
            return loss(x_, m_, p_)

        numeric = (at(eps) - at(-eps)) / (2 * eps)
        analytic = float((batched(t["grad." + name]) * u).sum()) if name in ("input", "memory") \
            else float((t["grad." + name] * u).sum())
        worst = max(worst, abs(analytic - numeric) / (abs(numeric) + 1e-5))
    return real_error, pad_error, worst, problems


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "op-dumps"
    files = sorted(glob.glob(os.path.join(directory, "*.safetensors")))
    if not files:
        print(f"{directory}: no .safetensors files")
        return 1
    rng = np.random.default_rng(0)
    failures = 0
    print(f"{'file':36} {'fwd rel err (real)':>18} {'(padded rows)':>14} {'grad rel err (FD)':>18}  pass")
    for path in files:
        real_error, pad_error, grad_error, problems = check(path, rng)
        ok = not problems and real_error <= 1e-10 and (pad_error is None or pad_error <= 1e-10) and grad_error <= 1e-5
        failures += not ok
        pad = "-" if pad_error is None else f"{pad_error:.2e}"
        print(f"{os.path.basename(path):36} {real_error:18.2e} {pad:>14} {grad_error:18.2e}  {'yes' if ok else 'NO'}"
              + "".join(f"  ({p})" for p in problems))
    print(f"{len(files) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

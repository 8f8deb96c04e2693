#!/usr/bin/env python3
"""Checks `revsearch dump-ops` files against an independent NumPy implementation of every
candidate op (DESIGN.md section 4, PyTorch layouts): the forward output, and the gradients
of sum(output * grad_output) by central finite differences along random directions.

    revsearch dump-ops --out DIR --dtype float64
    python3 scripts/check-op-dumps.py DIR          # needs numpy and safetensors

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
    """x[t + offset] at every t, zeros outside the sequence."""
    out = np.zeros_like(x)
    t = x.shape[0]
    for i in range(t):
        if 0 <= i + offset < t:
            out[i] = x[i + offset]
    return out


def conv(x, p, width, causal):
    pad = width - 1 if causal else (width - 1) // 2
    w, b = p["conv.weight"], p["conv.bias"]          # [out, in, width], Conv1d layout
    y = sum(shifted(x, j - pad) @ w[:, :, j].T for j in range(width)) + b
    return np.maximum(y, 0)


def dynconv(x, p, width, heads, causal):
    c = x.shape[1]
    pad = width - 1 if causal else (width - 1) // 2
    a = x @ p["linear1.weight"].T                      # c -> 2c, then GLU
    a = a[:, :c] * sigmoid(a[:, c:])
    k = softmax((x @ p["weight_linear.weight"].T).reshape(-1, heads, width), axis=-1)   # [T, h, w]
    per_head = np.repeat(k, c // heads, axis=1)         # [T, c, w]: channel ch uses head ch // (c / h)
    out = sum(per_head[:, :, j] * shifted(a, j - pad) for j in range(width))
    return out @ p["linear2.weight"].T


def attention(x, source, p, heads, causal):
    t, c = x.shape
    dh = c // heads
    q = (x @ p["q_proj.weight"].T).reshape(t, heads, dh).transpose(1, 0, 2)
    k = (source @ p["k_proj.weight"].T).reshape(-1, heads, dh).transpose(1, 0, 2)
    v = (source @ p["v_proj.weight"].T).reshape(-1, heads, dh).transpose(1, 0, 2)
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(dh)
    if causal:
        scores = scores + np.triu(np.full((t, t), -np.inf), 1)
    out = (softmax(scores) @ v).transpose(1, 0, 2).reshape(t, c)
    return out @ p["out_proj.weight"].T


def op_forward(meta, x, memory, p):
    name, causal, heads = meta["op"], meta["causal"] == "true", int(meta["heads"])
    if name == "zero":
        return np.zeros_like(x)
    if name == "identity":
        return x
    if name.startswith("dynconv"):
        o = dynconv(x, p, int(meta["width"]), heads, causal)
    elif name.startswith("conv"):
        o = conv(x, p, int(meta["width"]), causal)
    elif name == "self_attn":
        o = attention(x, x, p, heads, causal)
    elif name == "cross_attn":
        o = attention(x, memory, p, heads, False)
    elif name == "glu":
        o = (x @ p["linear_a.weight"].T + p["linear_a.bias"]) * sigmoid(x @ p["linear_b.weight"].T + p["linear_b.bias"])
    elif name == "ffn":
        o = np.maximum(x @ p["fc1.weight"].T + p["fc1.bias"], 0) @ p["fc2.weight"].T + p["fc2.bias"]
    else:
        raise ValueError(f"unknown op {name}")
    assert meta["wrapped"] == "true"
    return layer_norm(x + o, p["norm.weight"], p["norm.bias"], float(meta["eps"]))


def check(path, rng):
    with safe_open(path, "np") as f:
        meta = f.metadata()
        t = {k: f.get_tensor(k) for k in f.keys()}
    params = {k[len("param."):]: v for k, v in t.items() if k.startswith("param.")}
    memory = t.get("memory")
    ours = op_forward(meta, t["input"], memory, params)
    forward_error = np.abs(ours - t["output"]).max() / max(np.abs(t["output"]).max(), 1e-300)

    # Directional derivatives of L = sum(op(...) * grad_output) with our NumPy forward,
    # against the dumped gradients, for the input, the memory and every parameter.
    def loss(x, m, p):
        return float((op_forward(meta, x, m, p) * t["grad_output"]).sum())

    worst = 0.0
    wrt = ["input"] + (["memory"] if memory is not None else []) + [f"param.{k}" for k in params]
    eps = 1e-6
    for name in wrt:
        base = t[name]
        u = rng.standard_normal(base.shape)

        def at(step):
            x, m, p = t["input"], memory, dict(params)
            moved = base + step * u
            if name == "input":
                x = moved
            elif name == "memory":
                m = moved
            else:
                p[name[len("param."):]] = moved
            return loss(x, m, p)

        numeric = (at(eps) - at(-eps)) / (2 * eps)
        analytic = float((t["grad." + name] * u).sum())
        worst = max(worst, abs(analytic - numeric) / (abs(numeric) + 1e-5))
    return forward_error, worst


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "op-dumps"
    files = sorted(glob.glob(os.path.join(directory, "*.safetensors")))
    if not files:
        print(f"{directory}: no .safetensors files")
        return 1
    rng = np.random.default_rng(0)
    failures = 0
    print(f"{'file':32} {'forward rel error':>18} {'grad rel error (FD)':>20}  pass")
    for path in files:
        forward_error, grad_error = check(path, rng)
        ok = forward_error <= 1e-10 and grad_error <= 1e-5
        failures += not ok
        print(f"{os.path.basename(path):32} {forward_error:18.2e} {grad_error:20.2e}  {'yes' if ok else 'NO'}")
    print(f"{len(files) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The RevSearch baseline Transformer written in PyTorch, trained on the batches
`revsearch bench train --batches-out FILE` wrote: the reference our training throughput is
measured against (benchmarks/torch-vs-revsearch runs both).

    python3 benchmarks/torch_baseline.py FILE [--threads N]

The model mirrors Sources/Translation/TransformerBaseline.swift parameter for parameter, so
the two parameter counts are equal (checked: exit status 1 if not):

- one embedding matrix E [V, d] (normal, std 1/sqrt(d)) shared by source, target and output;
  input = sqrt(d) E[ids] + sinusoidal positions (sin on even features, cos on odd), then dropout;
- pre-LN layers: x + Dropout(sublayer(LayerNorm(x))); encoder: self-attention, FFN; decoder:
  causal self-attention, cross-attention on the encoder output, FFN; a final LayerNorm on each
  stack (eps 1e-5);
- attention: Q, K, V, O projections without biases, scores scaled by 1/sqrt(d/heads), padded
  keys masked (and later positions in decoder self-attention), no dropout on the weights;
- FFN: Linear(d, 4d) + ReLU + Linear(4d, d), with biases, no inner dropout;
- logits = LayerNorm(decoder output) E^T, no bias;
- weights Xavier-uniform, biases 0, layer norms 1 and 0.

Training as Trainer does: label-smoothed cross-entropy (0.1) averaged over non-padding target
tokens, gradient norm clipped to 1.0, Adam (0.9, 0.98, eps 1e-8) with the inverse-square-root
schedule. All of these are read from the batches file. The random numbers differ (weight
initialisation, dropout masks), so the losses agree in size, not digit for digit; the work per
step is the same.

Timing: every step (building the padded tensors, forward, backward, clipping, Adam) is timed
with perf_counter after the file's untimed steps; reported are the median step time and the
median over steps of target tokens / step time, as `revsearch bench train` reports them.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d, bias=False) for _ in range(4))

    def forward(self, x, source, mask):
        """x [B, T, d] attends to source [B, S, d]; mask: additive, broadcast to [B, heads, T, S]."""
        b, t, d = x.shape
        s = source.shape[1]

        def split(y, length):
            return y.view(b, length, self.heads, d // self.heads).transpose(1, 2)

        q, k, v = split(self.q_proj(x), t), split(self.k_proj(source), s), split(self.v_proj(source), s)
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # scale 1/sqrt(d/heads)
        return self.out_proj(attended.transpose(1, 2).reshape(b, t, d))


class FeedForward(nn.Module):
    def __init__(self, d, inner):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, inner), nn.Linear(inner, d)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, d, heads, inner, dropout):
        super().__init__()
        self.self_attn_norm, self.self_attn = nn.LayerNorm(d), Attention(d, heads)
        self.ffn_norm, self.ffn = nn.LayerNorm(d), FeedForward(d, inner)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask):
        h = self.self_attn_norm(x)
        x = x + self.dropout(self.self_attn(h, h, mask))
        return x + self.dropout(self.ffn(self.ffn_norm(x)))


class DecoderLayer(nn.Module):
    def __init__(self, d, heads, inner, dropout):
        super().__init__()
        self.self_attn_norm, self.self_attn = nn.LayerNorm(d), Attention(d, heads)
        self.cross_attn_norm, self.cross_attn = nn.LayerNorm(d), Attention(d, heads)
        self.ffn_norm, self.ffn = nn.LayerNorm(d), FeedForward(d, inner)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, memory, self_mask, memory_mask):
        h = self.self_attn_norm(x)
        x = x + self.dropout(self.self_attn(h, h, self_mask))
        x = x + self.dropout(self.cross_attn(self.cross_attn_norm(x), memory, memory_mask))
        return x + self.dropout(self.ffn(self.ffn_norm(x)))


class Baseline(nn.Module):
    def __init__(self, vocabulary, d, encoder_layers, decoder_layers, heads, inner, dropout):
        super().__init__()
        self.d = d
        self.embedding = nn.Parameter(torch.randn(vocabulary, d) / math.sqrt(d))
        self.encoder = nn.ModuleList(EncoderLayer(d, heads, inner, dropout) for _ in range(encoder_layers))
        self.decoder = nn.ModuleList(DecoderLayer(d, heads, inner, dropout) for _ in range(decoder_layers))
        self.encoder_norm, self.decoder_norm = nn.LayerNorm(d), nn.LayerNorm(d)
        self.dropout = nn.Dropout(dropout)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def positions(self, length):
        t = torch.arange(length, dtype=torch.float64)[:, None]
        i = torch.arange(0, self.d, 2, dtype=torch.float64)[None, :]
        angle = t / torch.pow(10000.0, i / self.d)
        table = torch.zeros(length, self.d, dtype=torch.float64)
        table[:, 0::2], table[:, 1::2] = torch.sin(angle), torch.cos(angle)
        return table.float()

    def embed(self, ids):
        return self.dropout(F.embedding(ids, self.embedding) * math.sqrt(self.d) + self.positions(ids.shape[1]))

    def forward(self, source, source_mask, target_input, target_mask):
        x = self.embed(source)
        for layer in self.encoder:
            x = layer(x, source_mask)
        memory = self.encoder_norm(x)
        t = target_input.shape[1]
        causal = torch.full((t, t), float("-inf")).triu(1)
        self_mask = target_mask + causal
        y = self.embed(target_input)
        for layer in self.decoder:
            y = layer(y, memory, self_mask, source_mask)
        return self.decoder_norm(y) @ self.embedding.t()


def padded(rows, pad):
    """Rows of ids -> [B, L] right-padded, and the additive key mask [B, 1, 1, L]."""
    length = max(len(r) for r in rows)
    ids = torch.tensor([r + [pad] * (length - len(r)) for r in rows], dtype=torch.long)
    mask = torch.zeros(ids.shape, dtype=torch.float32).masked_fill(ids == pad, float("-inf"))
    return ids, mask[:, None, None, :]


def median(values):
    """The upper middle value, as revsearch's `median` picks it."""
    return sorted(values)[len(values) // 2]


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
    except (OSError, json.JSONDecodeError) as error:
        sys.exit(f"{path}: cannot read the batches file ({error})")
    if spec.get("format") != "revsearch-train-batches-1":
        sys.exit(f"{path}: format {spec.get('format')!r}, expected revsearch-train-batches-1 "
                 "(written by revsearch bench train --batches-out)")
    return spec


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("batches", help="JSON from revsearch bench train --batches-out")
    parser.add_argument("--threads", type=int, help="intra-op threads (default: the file's, as the Swift run used)")
    args = parser.parse_args()
    spec = load(args.batches)
    threads = args.threads or spec["threads"]
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    m, t = spec["model"], spec["training"]
    model = Baseline(spec["vocabulary"], m["d"], m["encoder_layers"], m["decoder_layers"], m["heads"], m["ffn"], m["dropout"])
    count = sum(p.numel() for p in model.parameters())
    print(f"PyTorch {torch.__version__}, threads: {torch.get_num_threads()}, {torch.backends.cpu.get_cpu_capability()}")
    print(f"parameters: {count} (revsearch: {spec['parameters']}){'' if count == spec['parameters'] else ' MISMATCH'}")
    if count != spec["parameters"]:
        sys.exit("the PyTorch model does not mirror the revsearch baseline: parameter counts differ")

    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=t["peak_learning_rate"], betas=(t["beta1"], t["beta2"]), eps=t["epsilon"])
    warmup, pad, bos, eos = t["learning_rate_warmup_steps"], spec["pad"], spec["bos"], spec["eos"]
    times, rates, losses = [], [], []
    for step, batch in enumerate(spec["batches"], start=1):
        start = time.perf_counter()
        source, source_mask = padded(batch["source"], pad)
        target_input, target_mask = padded([[bos] + y for y in batch["target"]], pad)
        labels, _ = padded([y + [eos] for y in batch["target"]], pad)
        for group in optimizer.param_groups:
            group["lr"] = t["peak_learning_rate"] * min(step / warmup, math.sqrt(warmup / step))
        optimizer.zero_grad(set_to_none=True)
        logits = model(source, source_mask, target_input, target_mask)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=pad,
                               label_smoothing=t["label_smoothing"])
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), t["clip_norm"])
        optimizer.step()
        losses.append(loss.item())
        elapsed = time.perf_counter() - start
        if step > spec["untimed_steps"]:
            times.append(elapsed)
            rates.append(int((labels != pad).sum()) / elapsed)
    print(f"steps: {len(times)} timed after {spec['untimed_steps']} untimed; loss first {losses[0]:.4f}, last {losses[-1]:.4f}")
    print(f"median step time (s): {median(times):.4f}")
    print(f"target tokens/s (median of steps): {median(rates):.1f}")


if __name__ == "__main__":
    main()

"""PyTorch training-throughput reference for `proxlab bench train` (issue 3).

Builds the same GPT-2- or LLaMA-style model as scripts/torch-ref/models.py (HF layouts), fp32,
torch.optim.AdamW, torch.set_num_threads(threads); times full training steps (zero_grad, forward,
loss, backward, optimizer step) on a fixed random batch and prints ONE JSON line.

  /usr/bin/python3 scripts/torch-ref/train_bench.py --family gpt2 --d-model 256 --layers 4 --heads 4 \
      --vocab 4096 --ctx 128 --batch 16 --threads 1 --steps 10 --warmup 2
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

# Before torch loads libgomp: threads that wait sleep instead of spinning. On a loaded, shared
# machine (several jobs on 2 vCPUs) spinning OpenMP workers made 2-thread steps ~40x slower
# (20 vs 792 tokens/s, GPT-2 d256). Set OMP_WAIT_POLICY=ACTIVE yourself on an idle machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402

# FLOPs per training step (the usual 6N + attention estimate, Kaplan et al. 2020 / Chinchilla):
#   tokens * (6 * N_matmul + 12 * L * T * d)
# N_matmul = parameters used in a matmul per token (every weight matrix, plus the lm_head/V x d
# output projection, tied or not; the embedding lookups are not counted); 6 = 2 (multiply-add) x 3
# (forward, backward for inputs, backward for weights). 12 * L * T * d = 3 x (QK^T + AV: 2 x 2 T d
# per layer per token), counted over the full T x T score matrix (no causal halving).
FLOPS_FORMULA = "tokens*(6*N_matmul + 12*L*T*d); N_matmul = all weight matrices incl. lm_head (V*d), excl. embedding lookups"


def positive_int(s):
    v = int(s)
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {s}")
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", choices=["gpt2", "llama"], default="gpt2")
    ap.add_argument("--d-model", type=positive_int, default=256)
    ap.add_argument("--layers", type=positive_int, default=4)
    ap.add_argument("--heads", type=positive_int, default=4)
    ap.add_argument("--kv-heads", type=positive_int, default=None, help="LLaMA key/value heads (default = heads)")
    ap.add_argument("--intermediate", type=positive_int, default=None,
                    help="MLP width (default: GPT-2 4*d; LLaMA 8d/3 rounded up to a multiple of 8)")
    ap.add_argument("--vocab", type=positive_int, default=4096)
    ap.add_argument("--ctx", type=positive_int, default=128)
    ap.add_argument("--batch", type=positive_int, default=16)
    ap.add_argument("--threads", type=positive_int, default=1)
    ap.add_argument("--steps", type=positive_int, default=10, help="timed steps")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.d_model % a.heads:
        ap.error(f"--d-model {a.d_model} must be divisible by --heads {a.heads}")
    if a.warmup < 0:
        ap.error("--warmup must be >= 0")

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if a.family == "gpt2":
        cfg = dict(vocab_size=a.vocab, n_positions=a.ctx, n_embd=a.d_model, n_layer=a.layers, n_head=a.heads,
                   n_inner=a.intermediate)
    else:
        kv = a.kv_heads or a.heads
        if a.heads % kv:
            ap.error(f"--heads {a.heads} must be a multiple of --kv-heads {kv}")
        cfg = dict(vocab_size=a.vocab, max_position_embeddings=a.ctx, hidden_size=a.d_model, num_hidden_layers=a.layers,
                   num_attention_heads=a.heads, num_key_value_heads=kv,
                   intermediate_size=a.intermediate or models.default_llama_intermediate(a.d_model))
    model = models.build_model(a.family, **cfg)
    models.init_params(model, seed=a.seed, std=0.02, norm_noise=0.0, bias_std=0.0)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    g = torch.Generator().manual_seed(a.seed + 1)
    input_ids = torch.randint(0, a.vocab, (a.batch, a.ctx), generator=g)
    labels = input_ids

    def step():
        opt.zero_grad(set_to_none=True)
        loss = models.causal_lm_loss(model(input_ids), labels)
        loss.backward()
        opt.step()
        return float(loss.item())

    for _ in range(a.warmup):
        step()
    times = []
    first_loss = last_loss = None
    for _ in range(a.steps):
        t0 = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t0)
        first_loss = loss if first_loss is None else first_loss
        last_loss = loss

    tokens = a.batch * a.ctx
    n_params = sum(p.numel() for p in model.parameters())
    n_matmul = models.matmul_param_count(model)
    flops_per_step = tokens * (6 * n_matmul + 12 * a.layers * a.ctx * a.d_model)
    med = statistics.median(times)
    out = {
        "impl": "pytorch",
        "torch_version": torch.__version__, "omp_wait_policy": os.environ["OMP_WAIT_POLICY"],
        "family": a.family,
        "model": model.config.to_dict(),
        "batch": a.batch,
        "ctx": a.ctx,
        "threads": a.threads,
        "steps": a.steps,
        "warmup": a.warmup,
        "tokens_per_s": tokens / med,
        "step_s_median": med,
        "step_s_min": min(times),
        "params": n_params,
        "matmul_params": n_matmul,
        "flops_per_step": flops_per_step,
        "gflops_per_s": flops_per_step / med / 1e9,
        "flops_formula": FLOPS_FORMULA,
        "loss_first": first_loss,
        "loss_last": last_loss,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # Linux: KiB
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Golden fixtures for Prox Lab's TS numeric core (src/core/nn, src/core/optim), made with PyTorch.

Usage:  /usr/bin/python3 scripts/torch-ref/make_fixtures.py [--out DIR] [--case NAME ...] [--sensitivity]

Writes one folder per case under --out (default test/fixtures/torch/). Format (all .npy are
NumPy format 1.0, little-endian, C order, written by np.save):
  config.json            model dims/eps/theta/tie flag, batch, init, loss convention, optimizer
                         hparams, torch/numpy versions, the parameter list (name, shape) in order
  input_ids.npy          int64 [B, T]
  labels.npy             int64 [B, T]   (-100 = ignored; loss shifts: logits[:, :-1] vs labels[:, 1:])
  loss.npy               float64 [1]    loss of the float32 model (cast to float64)
  loss64.npy             float64 [1]    loss of a float64 copy of the same weights
  logits.npy             float32 [B, T, V]  (float32 model)
  param.<name>.npy       float32        initial weights, HF names and layouts
  grad.<name>.npy        float32        d loss / d param, float32 model
  grad64.<name>.npy      float64        d loss / d param, float64 copy (the tighter reference)
  (optimizer cases, e.g. adamw-*)
  losses.npy             float64 [S]    loss before each of S AdamW steps (float32 run)
  final.<name>.npy       float32        weights after S steps (float32 run)
  losses64.npy           float64 [S]    same trajectory run in float64
  final64.<name>.npy     float64        weights after S steps (float64 run)

Everything is deterministic (fixed seeds, one thread); rerunning reproduces the files bit-for-bit
on the same torch build. --sensitivity prints how far each case's loss/grads move under common
implementation mistakes (erf GELU, missing causal mask, wrong GQA head mapping, interleaved rotary,
unshifted loss), to show the fixtures can tell them apart at the 1e-4 tolerance.
"""
import argparse
import copy
import json
import os
import shutil
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "test", "fixtures", "torch")

# Weights N(0, INIT_STD). HF initialises with 0.02, but at d=32 that leaves every activation in
# the near-linear range (attention ~uniform, GELU ~linear), where a tanh-vs-erf GELU or a wrong
# rotary pairing moves the gradients by less than the 1e-4 test tolerance. 0.2 puts
# pre-activations at O(1) so each of those mistakes is visible (see --sensitivity).
INIT = {"std": 0.2, "norm_weight": "1 + 0.1 * N(0,1)", "norm_noise": 0.1, "bias_std": 0.1}

LLAMA_TINY = dict(
    vocab_size=64, max_position_embeddings=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
    num_key_value_heads=2, intermediate_size=88, rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
)
CASES = {
    "gpt2-tiny": dict(
        family="gpt2",
        model=dict(vocab_size=64, n_positions=16, n_embd=32, n_layer=2, n_head=4, layer_norm_epsilon=1e-5),
        batch=3, ctx=16, seed=1, ignore_fraction=0.25, optimizer=None,
    ),
    "llama-tiny": dict(family="llama", model=LLAMA_TINY, batch=3, ctx=16, seed=2, ignore_fraction=0.0, optimizer=None),
    "adamw-llama-tiny": dict(
        family="llama", model=LLAMA_TINY, batch=3, ctx=16, seed=3, ignore_fraction=0.0,
        optimizer=dict(name="adamw", lr=1e-2, betas=[0.9, 0.95], eps=1e-8, weight_decay=0.1, steps=20),
    ),
}

ADAMW_UPDATE = (
    "torch.optim.AdamW (torch 1.13, foreach=False), one param group = every parameter (norms included): "
    "p *= 1 - lr*wd; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; "
    "p -= (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps), t = 1..steps; "
    "losses[t-1] is the loss at the weights before update t"
)


def make_batch(case):
    g = torch.Generator().manual_seed(case["seed"] * 1000 + 7)
    v = case["model"]["vocab_size"]
    input_ids = torch.randint(0, v, (case["batch"], case["ctx"]), generator=g, dtype=torch.int64)
    labels = input_ids.clone()
    if case["ignore_fraction"] > 0:
        ignore = torch.rand(input_ids.shape, generator=g) < case["ignore_fraction"]
        labels[ignore] = models.IGNORE_INDEX
        labels[-1, -4:] = models.IGNORE_INDEX  # a padded tail, as in a right-padded batch
    return input_ids, labels


def build(case, dtype=torch.float32):
    model = models.build_model(case["family"], **case["model"])
    models.init_params(model, seed=case["seed"], std=INIT["std"], norm_noise=INIT["norm_noise"], bias_std=INIT["bias_std"])
    return model.to(dtype)


def loss_and_grads(model, input_ids, labels):
    model.zero_grad(set_to_none=True)
    logits = model(input_ids)
    loss = models.causal_lm_loss(logits, labels)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    return loss.detach(), logits.detach(), grads


def adamw_trajectory(model, input_ids, labels, opt_cfg):
    opt = torch.optim.AdamW(
        model.parameters(), lr=opt_cfg["lr"], betas=tuple(opt_cfg["betas"]), eps=opt_cfg["eps"],
        weight_decay=opt_cfg["weight_decay"], foreach=False,
    )
    losses = []
    for _ in range(opt_cfg["steps"]):
        opt.zero_grad(set_to_none=True)
        loss = models.causal_lm_loss(model(input_ids), labels)
        loss.backward()
        losses.append(float(loss.item()))
        opt.step()
    return np.array(losses, dtype=np.float64), {n: p.detach().clone() for n, p in model.named_parameters()}


def save(path, arr, dtype):
    np.save(path, np.ascontiguousarray(np.asarray(arr, dtype=dtype)))


def make_case(name, case, out_dir):
    d = os.path.join(out_dir, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    input_ids, labels = make_batch(case)
    model32 = build(case, torch.float32)
    model64 = copy.deepcopy(model32).double()
    initial = {n: p.detach().clone() for n, p in model32.named_parameters()}

    loss32, logits32, grads32 = loss_and_grads(model32, input_ids, labels)
    loss64, _, grads64 = loss_and_grads(model64, input_ids, labels)

    save(os.path.join(d, "input_ids.npy"), input_ids.numpy(), np.int64)
    save(os.path.join(d, "labels.npy"), labels.numpy(), np.int64)
    save(os.path.join(d, "loss.npy"), [float(loss32)], np.float64)
    save(os.path.join(d, "loss64.npy"), [float(loss64)], np.float64)
    save(os.path.join(d, "logits.npy"), logits32.numpy(), np.float32)
    for n, p in initial.items():
        save(os.path.join(d, f"param.{n}.npy"), p.numpy(), np.float32)
        save(os.path.join(d, f"grad.{n}.npy"), grads32[n].numpy(), np.float32)
        save(os.path.join(d, f"grad64.{n}.npy"), grads64[n].numpy(), np.float64)

    # How far float32 arithmetic alone moves each reference (a floor for any float32 tolerance).
    f32_vs_f64 = {
        "loss_rel": abs(float(loss32) - float(loss64)) / abs(float(loss64)),
        "grad_max_param_rel": max(_rel(grads32[n].double(), grads64[n]) for n in grads64),
    }
    opt_cfg = case["optimizer"]
    if opt_cfg is not None:
        losses32, final32 = adamw_trajectory(model32, input_ids, labels, opt_cfg)
        losses64, final64 = adamw_trajectory(model64, input_ids, labels, opt_cfg)
        save(os.path.join(d, "losses.npy"), losses32, np.float64)
        save(os.path.join(d, "losses64.npy"), losses64, np.float64)
        for n in initial:
            save(os.path.join(d, f"final.{n}.npy"), final32[n].numpy(), np.float32)
            save(os.path.join(d, f"final64.{n}.npy"), final64[n].numpy(), np.float64)
        f32_vs_f64["losses_max_rel"] = float(np.max(np.abs(losses32 - losses64) / np.abs(losses64)))
        f32_vs_f64["final_max_param_rel"] = max(_rel(final32[n].double(), final64[n]) for n in final64)

    cfg = model32.config.to_dict()
    config = {
        "case": name,
        "family": case["family"],
        "model": cfg,
        "batch": case["batch"],
        "ctx": case["ctx"],
        "seed": case["seed"],
        "init": INIT,
        "loss": models.LOSS_CONVENTION,
        "loss_doc": "mean cross-entropy of logits[:, :-1] against labels[:, 1:] over targets != -100",
        "ignore_index": models.IGNORE_INDEX,
        "n_target_tokens": int((labels[:, 1:] != models.IGNORE_INDEX).sum()),
        "optimizer": None if opt_cfg is None else {**opt_cfg, "update": ADAMW_UPDATE},
        "f32_vs_f64": {k: float(f"{v:.3g}") for k, v in f32_vs_f64.items()},
        "f32_vs_f64_doc": "relative differences between the float32 and float64 runs (per-param: ||a-b||/||b||, max over params)",
        "params": [{"name": n, "shape": list(p.shape)} for n, p in initial.items()],
        "n_params": int(sum(p.numel() for p in initial.values())),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "generator": "scripts/torch-ref/make_fixtures.py",
    }
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    summary = f"{name}: loss {float(loss32):.6f} (f64 {float(loss64):.6f}), {config['n_params']} params"
    if opt_cfg is not None:
        summary += f", AdamW loss {losses32[0]:.4f} -> {losses32[-1]:.4f}"
    summary += ", f32 vs f64: " + ", ".join(f"{k} {v:.1e}" for k, v in f32_vs_f64.items())
    print(summary)


# ---------------------------------------------------------------------------------------------
# Sensitivity: would a typical bug move the references by more than the tolerance?
# ---------------------------------------------------------------------------------------------


def _rel(a, b):
    return float(torch.linalg.norm((a - b).flatten()) / torch.linalg.norm(b.flatten()).clamp_min(1e-300))


def _gelu_erf(x):
    return torch.nn.functional.gelu(x)


def _no_mask(t, device):
    return torch.ones(t, t, dtype=torch.bool, device=device)


def _rotate_interleaved(x):
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack((-x2, x1), dim=-1).flatten(-2)


def _repeat_kv_modulo(x, rep):
    return x.repeat(1, rep, 1, 1)  # head h reads kv head h % n_kv (wrong for HF)


def sensitivity(name, case):
    input_ids, labels = make_batch(case)
    model = build(case, torch.float64)
    loss_ref, _, g_ref = loss_and_grads(model, input_ids, labels)
    variants = {"erf GELU": ("gelu_new", _gelu_erf), "no causal mask": ("causal_mask", _no_mask)}
    if case["family"] == "llama":
        del variants["erf GELU"]  # LLaMA has no GELU
        variants["interleaved rotary"] = ("rotate_half", _rotate_interleaved)
        variants["GQA head h % n_kv"] = ("repeat_kv", _repeat_kv_modulo)
    rows = []
    for label, (attr, fn) in variants.items():
        orig = getattr(models, attr)
        setattr(models, attr, fn)
        try:
            loss, _, g = loss_and_grads(model, input_ids, labels)
        finally:
            setattr(models, attr, orig)
        worst = max(_rel(g[n], g_ref[n]) for n in g_ref)
        rows.append((label, abs(float(loss - loss_ref)) / abs(float(loss_ref)), worst))
    # unshifted loss
    logits = model(input_ids).detach()
    flat = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
    rows.append(("unshifted loss", abs(float(flat - loss_ref)) / abs(float(loss_ref)), float("nan")))
    for label, dl, dg in rows:
        print(f"  {name:18s} {label:20s} rel d(loss) {dl:9.2e}   max_param rel d(grad) {dg:9.2e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder (default test/fixtures/torch)")
    ap.add_argument("--case", action="append", choices=sorted(CASES), help="only these cases (repeatable)")
    ap.add_argument("--sensitivity", action="store_true", help="print how much common bugs move each case, write nothing")
    args = ap.parse_args()
    torch.set_num_threads(1)  # one summation order: reproducible bit-for-bit
    torch.use_deterministic_algorithms(True)
    names = args.case or list(CASES)
    if args.sensitivity:
        for n in names:
            sensitivity(n, CASES[n])
        return
    os.makedirs(args.out, exist_ok=True)
    for n in names:
        make_case(n, CASES[n], args.out)


if __name__ == "__main__":
    main()

"""Anchor figure: PyTorch fp32 matmul (sgemm) throughput, one JSON line.

  /usr/bin/python3 scripts/torch-ref/matmul_bench.py --m 1024 --n 1024 --k 1024 --threads 1

GFLOP/s = 2*m*n*k / median seconds. Also reports which BLAS torch is linked against, because
Debian's python3-torch calls the system libblas.so.3: the reference (netlib) BLAS is ~50x slower
than OpenBLAS (apt: libopenblas0-openmp), and that decides every PyTorch figure on CPU.
"""
import argparse
import json
import os
import statistics
import time

# Before torch loads libgomp: threads that wait sleep instead of spinning. On a loaded, shared
# machine (several jobs on 2 vCPUs) spinning OpenMP workers made 2-thread steps ~40x slower
# (20 vs 792 tokens/s, GPT-2 d256). Set OMP_WAIT_POLICY=ACTIVE yourself on an idle machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402


def blas_library() -> str:
    """The libblas.so.3 / libopenblas mapped into this process (Linux /proc/self/maps)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    except OSError:
        return "unknown"
    return ",".join(sorted(os.path.realpath(p) for p in libs)) or "none mapped"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--m", type=int, default=1024)
    ap.add_argument("--n", type=int, default=None, help="default m")
    ap.add_argument("--k", type=int, default=None, help="default m")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=10)
    a = ap.parse_args()
    n = a.n or a.m
    k = a.k or a.m
    for name, v in (("--m", a.m), ("--n", n), ("--k", k), ("--threads", a.threads), ("--reps", a.reps)):
        if v < 1:
            ap.error(f"{name} must be >= 1, got {v}")
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(a.m, k, generator=g)
    y = torch.randn(k, n, generator=g)
    out = torch.empty(a.m, n)
    torch.matmul(x, y, out=out)  # warm-up
    times = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        torch.matmul(x, y, out=out)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(json.dumps({
        "impl": "pytorch", "op": "sgemm", "m": a.m, "n": n, "k": k, "threads": a.threads, "reps": a.reps,
        "s_median": med, "gflops_per_s": 2 * a.m * n * k / med / 1e9, "gflops_per_s_best": 2 * a.m * n * k / min(times) / 1e9,
        "torch_version": torch.__version__, "omp_wait_policy": os.environ["OMP_WAIT_POLICY"], "blas": blas_library(),
    }))


if __name__ == "__main__":
    main()

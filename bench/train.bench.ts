// `npm run bench -- train`: training throughput of the one-graph step vs PyTorch (same model,
// AdamW, fp32, same threads), achieved GFLOP/s over ORT's own MatMul GFLOP/s, peak RSS of both.
// Every figure is measured in this run; each configuration runs in its own child process so its
// peak RSS is its own. Prints one JSON line per figure.
//   npx tsx bench/train.bench.ts [--quick] [--family gpt2|llama] [--steps N] [--threads 1,2] [--repeat 2] [--configs small,large]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type TrainBenchOptions, ioCostBench, ortMatmulGflops, placementBench, trainBench } from '../src/core/bench/train';

const root = join(__dirname, '..');
const args = process.argv.slice(2);
const flag = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};

async function child(json: string): Promise<void> {
  const o = JSON.parse(json) as TrainBenchOptions & { io?: number; placementCompare?: boolean };
  if (o.placementCompare) {
    console.log(JSON.stringify(await placementBench(o)));
    return;
  }
  if (o.io) {
    console.log(JSON.stringify(await ioCostBench({ floats: o.io, threads: o.threads })));
    return;
  }
  const r = await trainBench(o);
  // anchor measured in the same process right after the steps: ORT MatMul on the model's largest
  // per-layer GEMM, (batch*ctx x d) @ (d x 4d)
  const mm = await ortMatmulGflops({ m: o.batch * o.ctx, k: o.dModel, n: 4 * o.dModel, threads: o.threads });
  console.log(JSON.stringify({ ...r, ort_matmul_gflops_per_s: mm }));
}

function runJson(cmd: string, argv: string[]): Record<string, number> | { error: string } {
  const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || !line) return { error: `${cmd} ${argv.join(' ')} exited ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` };
  return JSON.parse(line);
}

function ours(o: object): Record<string, number> | { error: string } {
  return runJson(process.execPath, ['--import', 'tsx', join('bench', 'train.bench.ts'), '--child', JSON.stringify(o)]);
}

function torch(o: TrainBenchOptions): Record<string, number> | { error: string } {
  const script = join('scripts', 'torch-ref', 'train_bench.py');
  if (!existsSync(join(root, script))) return { error: `${script} missing` };
  return runJson('/usr/bin/python3', [
    script, '--family', o.family, '--d-model', String(o.dModel), '--layers', String(o.layers), '--heads', String(o.heads),
    '--vocab', String(o.vocab), '--ctx', String(o.ctx), '--batch', String(o.batch), '--threads', String(o.threads),
    '--steps', String(o.steps), '--warmup', String(o.warmup ?? 1),
  ]);
}

/** Cost of feeding params + AdamW state (3 x params floats) in and getting them back, per step. */
function ioLine(o: TrainBenchOptions, params: number, stepS: number): Record<string, number> | null {
  const r = ours({ ...o, io: 3 * params });
  if ('error' in r) return null;
  const io = r as Record<string, number>;
  return { ...io, write_into_share_of_step: io.write_into_ms / 1000 / stepS };
}

async function main(): Promise<void> {
  const childArg = args.indexOf('--child');
  if (childArg >= 0) return child(args[childArg + 1]);
  const quick = args.includes('--quick');
  const family = flag('--family', 'gpt2') as 'gpt2' | 'llama';
  const threadList = flag('--threads', '1,2').split(',').map(Number);
  const only = flag('--configs', 'small,large').split(',');
  const configs = quick
    ? [{ name: 'tiny', dModel: 128, layers: 2, heads: 4, vocab: 1024, ctx: 64, batch: 8, steps: 3 }]
    : [
        { name: 'small', dModel: 256, layers: 4, heads: 4, vocab: 4096, ctx: 128, batch: 16, steps: Number(flag('--steps', '5')) },
        { name: 'large', dModel: 512, layers: 8, heads: 8, vocab: 8192, ctx: 256, batch: 8, steps: Number(flag('--steps', '3')) },
      ].filter((c) => only.includes(c.name));
  // optimizer placement: inside the step graph vs a vectorized JS loop outside (alternating steps)
  {
    const c = configs[0];
    const r = ours({ family, ...c, threads: 1, warmup: 1, placementCompare: true }) as Record<string, any>;
    console.log(
      JSON.stringify({
        bench: 'train_optimizer_placement', config: c.name, family, threads: 1,
        graph_step_s_min: r.graph?.min ?? null, js_step_s_min: r.js?.min ?? null,
        graph_step_s_median: r.graph?.median ?? null, js_step_s_median: r.js?.median ?? null,
        'js/graph_step_s_min': r.graph && r.js ? r.js.min / r.graph.min : null, same_loss: r.same_loss ?? null, error: r.error ?? null,
      }),
    );
  }
  const repeat = Number(flag('--repeat', '2'));
  for (const c of configs) {
    for (const threads of threadList) {
      const o: TrainBenchOptions = { family, ...c, threads, warmup: 1 };
      // alternate ours and PyTorch `repeat` times; keep each side's run with the fastest step
      let a: Record<string, number> | { error: string } = { error: 'not run' };
      let b: Record<string, number> | { error: string } = { error: 'not run' };
      const better = (x: typeof a, y: typeof a) => ('error' in x ? y : 'error' in y ? x : (y as Record<string, number>).step_s_min < (x as Record<string, number>).step_s_min ? y : x);
      for (let k = 0; k < repeat; k++) {
        a = better(a, ours(o));
        b = better(b, torch(o));
      }
      const num = (x: Record<string, number> | { error: string }, k: string): number | null => ('error' in x ? null : (x as Record<string, number>)[k]);
      const ratio = (p: number | null, q: number | null) => (p !== null && q !== null && q > 0 ? p / q : null);
      console.log(
        JSON.stringify({
          bench: 'train',
          config: c.name,
          family,
          d_model: c.dModel, layers: c.layers, heads: c.heads, vocab: c.vocab, ctx: c.ctx, batch: c.batch, threads,
          ours_tokens_per_s: num(a, 'tokens_per_s'),
          pytorch_tokens_per_s: num(b, 'tokens_per_s'),
          'ours/pytorch_tokens_per_s': ratio(num(a, 'tokens_per_s'), num(b, 'tokens_per_s')),
          // best-of-steps ratio: both sides' fastest step, robust to other load on a shared machine
          'ours/pytorch_tokens_per_s_best': ratio(num(b, 'step_s_min'), num(a, 'step_s_min')),
          ours_gflops_per_s: num(a, 'gflops_per_s'),
          ort_matmul_gflops_per_s: num(a, 'ort_matmul_gflops_per_s'),
          'ours/ort_matmul_gflops': ratio(num(a, 'gflops_per_s'), num(a, 'ort_matmul_gflops_per_s')),
          ours_peak_rss_mb: num(a, 'peak_rss_mb'),
          pytorch_peak_rss_mb: num(b, 'peak_rss_mb'),
          ours_step_s_median: num(a, 'step_s_median'),
          pytorch_step_s_median: num(b, 'step_s_median'),
          ours_step_s_min: num(a, 'step_s_min'),
          pytorch_step_s_min: num(b, 'step_s_min'),
          params: num(a, 'params'),
          ours_params_io: 'error' in a ? null : ioLine(o, (a as Record<string, number>).params, (a as Record<string, number>).step_s_median),
          errors: ['error' in a ? a.error : null, 'error' in b ? b.error : null].filter(Boolean),
        }),
      );
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// The PyTorch golden fixtures (test/fixtures/torch, made by scripts/torch-ref/make_fixtures.py)
// are present, well-formed and self-consistent; and, where /usr/bin/python3 has torch, the
// committed script still reproduces the committed files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseNpy, type NpyArray, type NpyDtype } from '../../src/core/io/npy';
import { logSumExp } from '../../src/core/linalg/logsumexp';

const ROOT = new URL('../..', import.meta.url).pathname;
const FIXTURES = join(ROOT, 'test', 'fixtures', 'torch');
const SCRIPT = join(ROOT, 'scripts', 'torch-ref', 'make_fixtures.py');
const PYTHON = '/usr/bin/python3';
const CASES = ['gpt2-tiny', 'llama-tiny', 'adamw-llama-tiny'];
const IGNORE_INDEX = -100;

/** parseNpy over a plain Uint8Array copy of the file: npy.ts's readNpy passes a Node Buffer,
 * whose .slice() is a view, so its typed arrays start at the file's header (scaffold bug). */
function readNpy(path: string): NpyArray {
  return parseNpy(new Uint8Array(readFileSync(path)), path);
}

interface FixtureConfig {
  case: string;
  family: 'gpt2' | 'llama';
  model: Record<string, number | string | boolean>;
  batch: number;
  ctx: number;
  loss: string;
  ignore_index: number;
  n_target_tokens: number;
  optimizer: null | { name: string; lr: number; betas: [number, number]; eps: number; weight_decay: number; steps: number };
  params: { name: string; shape: number[] }[];
  n_params: number;
  f32_vs_f64: Record<string, number>;
}

function readConfig(dir: string): FixtureConfig {
  return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as FixtureConfig;
}

function load(dir: string, file: string, dtype: NpyDtype, shape: number[]): NpyArray {
  const a = readNpy(join(dir, file));
  assert.equal(a.dtype, dtype, `${file}: dtype`);
  assert.deepEqual(a.shape, shape, `${file}: shape`);
  return a;
}

function floats(a: NpyArray): Float64Array {
  return Float64Array.from(a.data as ArrayLike<number>);
}

function ints(a: NpyArray): number[] {
  return Array.from(a.data as BigInt64Array, (x) => Number(x));
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** ||a - b|| / ||b|| (Frobenius). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < b.length; i++) d += (a[i] - b[i]) ** 2;
  return Math.sqrt(d) / Math.max(norm(b), 1e-300);
}

/** The Hugging Face parameter names the config implies, in module order. */
function expectedParams(c: FixtureConfig): { name: string; shape: number[] }[] {
  const m = c.model as Record<string, number>;
  const out: { name: string; shape: number[] }[] = [];
  const p = (name: string, ...shape: number[]) => out.push({ name, shape });
  if (c.family === 'gpt2') {
    const d = m.n_embd;
    p('transformer.wte.weight', m.vocab_size, d);
    p('transformer.wpe.weight', m.n_positions, d);
    for (let i = 0; i < m.n_layer; i++) {
      const h = `transformer.h.${i}`;
      p(`${h}.ln_1.weight`, d); p(`${h}.ln_1.bias`, d);
      p(`${h}.attn.c_attn.weight`, d, 3 * d); p(`${h}.attn.c_attn.bias`, 3 * d);
      p(`${h}.attn.c_proj.weight`, d, d); p(`${h}.attn.c_proj.bias`, d);
      p(`${h}.ln_2.weight`, d); p(`${h}.ln_2.bias`, d);
      p(`${h}.mlp.c_fc.weight`, d, 4 * d); p(`${h}.mlp.c_fc.bias`, 4 * d);
      p(`${h}.mlp.c_proj.weight`, 4 * d, d); p(`${h}.mlp.c_proj.bias`, d);
    }
    p('transformer.ln_f.weight', d); p('transformer.ln_f.bias', d);
  } else {
    const d = m.hidden_size;
    const hd = d / m.num_attention_heads;
    const kv = m.num_key_value_heads * hd;
    p('model.embed_tokens.weight', m.vocab_size, d);
    for (let i = 0; i < m.num_hidden_layers; i++) {
      const l = `model.layers.${i}`;
      p(`${l}.input_layernorm.weight`, d);
      p(`${l}.self_attn.q_proj.weight`, d, d); p(`${l}.self_attn.k_proj.weight`, kv, d);
      p(`${l}.self_attn.v_proj.weight`, kv, d); p(`${l}.self_attn.o_proj.weight`, d, d);
      p(`${l}.post_attention_layernorm.weight`, d);
      p(`${l}.mlp.gate_proj.weight`, m.intermediate_size, d); p(`${l}.mlp.up_proj.weight`, m.intermediate_size, d);
      p(`${l}.mlp.down_proj.weight`, d, m.intermediate_size);
    }
    p('model.norm.weight', d);
    if (!c.model.tie_word_embeddings) p('lm_head.weight', m.vocab_size, d);
  }
  return out;
}

/** HF shifted mean cross-entropy, recomputed in float64 from the saved logits. */
function shiftedMeanCE(logits: Float64Array, labels: number[], b: number, t: number, v: number): { loss: number; count: number } {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < b; i++) {
    for (let j = 0; j + 1 < t; j++) {
      const y = labels[i * t + j + 1];
      if (y === IGNORE_INDEX) continue;
      const row = (i * t + j) * v;
      sum += logSumExp(logits, row, v) - logits[row + y];
      count++;
    }
  }
  return { loss: sum / count, count };
}

for (const name of CASES) {
  test(`torch fixture ${name}: present, well-formed, self-consistent`, () => {
    const dir = join(FIXTURES, name);
    assert.ok(existsSync(join(dir, 'config.json')), `${dir}/config.json missing: run npm run fixtures:torch`);
    const c = readConfig(dir);
    assert.equal(c.case, name);
    assert.equal(c.loss, 'hf_shifted_mean_ce');
    assert.equal(c.ignore_index, IGNORE_INDEX);
    assert.deepEqual(c.params, expectedParams(c), 'parameter names/shapes must be the HF layout');
    assert.equal(c.n_params, c.params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0));
    const { batch: B, ctx: T } = c;
    const V = c.model.vocab_size as number;

    const ids = ints(load(dir, 'input_ids.npy', '<i8', [B, T]));
    const labels = ints(load(dir, 'labels.npy', '<i8', [B, T]));
    assert.ok(ids.every((x) => Number.isInteger(x) && x >= 0 && x < V), 'input_ids in [0, vocab)');
    labels.forEach((y, i) => assert.ok(y === ids[i] || y === IGNORE_INDEX, `labels[${i}] = ${y} is neither input_ids nor -100`));
    if (name === 'gpt2-tiny') assert.ok(labels.includes(IGNORE_INDEX), 'gpt2-tiny exercises ignore_index');

    const loss = floats(load(dir, 'loss.npy', '<f8', [1]))[0];
    const loss64 = floats(load(dir, 'loss64.npy', '<f8', [1]))[0];
    const logits = floats(load(dir, 'logits.npy', '<f4', [B, T, V]));
    const ce = shiftedMeanCE(logits, labels, B, T, V);
    assert.equal(ce.count, c.n_target_tokens);
    assert.ok(Math.abs(ce.loss - loss) <= 1e-6 * loss, `loss.npy ${loss} vs CE recomputed from logits ${ce.loss}`);
    assert.ok(Math.abs(loss - loss64) <= 1e-5 * loss64, `float32 loss ${loss} vs float64 loss ${loss64}`);

    for (const { name: p, shape } of c.params) {
      const w = floats(load(dir, `param.${p}.npy`, '<f4', shape));
      const g = floats(load(dir, `grad.${p}.npy`, '<f4', shape));
      const g64 = floats(load(dir, `grad64.${p}.npy`, '<f8', shape));
      assert.ok(w.every(Number.isFinite) && g.every(Number.isFinite) && g64.every(Number.isFinite), `${p}: finite`);
      assert.ok(norm(g64) > 1e-6 * Math.sqrt(g64.length), `${p}: gradient is non-trivial (|g| = ${norm(g64)})`);
      assert.ok(relErr(g, g64) < 1e-5, `${p}: float32 grad vs float64 grad rel ${relErr(g, g64)}`);
      if (/(ln_\d|ln_f|layernorm|\.norm)\.weight$/.test(p)) {
        assert.ok(w.some((x) => Math.abs(x - 1) > 1e-3), `${p}: norm weights carry noise around 1`);
      }
    }

    if (c.optimizer) {
      const S = c.optimizer.steps;
      const losses = floats(load(dir, 'losses.npy', '<f8', [S]));
      const losses64 = floats(load(dir, 'losses64.npy', '<f8', [S]));
      assert.ok(Math.abs(losses[0] - loss) <= 1e-6 * loss, 'losses[0] is the loss at the initial weights');
      assert.ok(losses[S - 1] < losses[0] / 10, `AdamW trains: ${losses[0]} -> ${losses[S - 1]}`);
      assert.ok(relErr(losses, losses64) < 1e-4, 'float32 and float64 loss trajectories agree');
      for (const { name: p, shape } of c.params) {
        const f = floats(load(dir, `final.${p}.npy`, '<f4', shape));
        const f64 = floats(load(dir, `final64.${p}.npy`, '<f8', shape));
        const w = floats(load(dir, `param.${p}.npy`, '<f4', shape));
        assert.ok(relErr(f64, w) > 1e-3, `${p}: AdamW moved the weights`);
        assert.ok(relErr(f, f64) < 1e-2, `${p}: float32 vs float64 final weights rel ${relErr(f, f64)}`);
      }
    }
    const expected = new Set(['config.json', 'input_ids.npy', 'labels.npy', 'loss.npy', 'loss64.npy', 'logits.npy']);
    for (const { name: p } of c.params) for (const k of ['param', 'grad', 'grad64']) expected.add(`${k}.${p}.npy`);
    if (c.optimizer) {
      expected.add('losses.npy').add('losses64.npy');
      for (const { name: p } of c.params) expected.add(`final.${p}.npy`).add(`final64.${p}.npy`);
    }
    assert.deepEqual(new Set(readdirSync(dir)), expected, 'fixture folder holds exactly the documented files');
  });
}

function torchAvailable(): boolean {
  if (!existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0;
}

// Tolerances for regenerated vs committed files. float32 results depend on the BLAS and CPU
// kernel (OpenBLAS vs reference BLAS sum in different orders), so only float64 references can
// be compared tightly; the AdamW float32 trajectory amplifies rounding ~1000x over 20 steps.
function tolerance(file: string, dtype: NpyDtype): number {
  if (dtype === '<i8' || file.startsWith('param.')) return 0; // seeded, no arithmetic
  if (dtype === '<f8' && !file.startsWith('losses.') && file !== 'loss.npy') return 1e-7;
  if (file.startsWith('final.')) return 1e-2;
  if (file.startsWith('losses.')) return 1e-4;
  return 1e-5;
}

test('torch fixtures: make_fixtures.py reproduces the committed files', (t) => {
  if (!torchAvailable()) {
    t.skip(`${PYTHON} has no torch/numpy (apt-get install python3-torch python3-numpy); regeneration not checked`);
    return;
  }
  const out = mkdtempSync(join(tmpdir(), 'torch-fixtures-'));
  try {
    const r = spawnSync(PYTHON, [SCRIPT, '--out', out], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `make_fixtures.py failed:\n${r.stderr}`);
    let bitIdentical = 0;
    let total = 0;
    for (const name of CASES) {
      const committed = join(FIXTURES, name);
      const fresh = join(out, name);
      assert.deepEqual(readdirSync(fresh).sort(), readdirSync(committed).sort(), `${name}: same file list`);
      const strip = (c: FixtureConfig) => ({ ...c, f32_vs_f64: undefined, torch_version: undefined, numpy_version: undefined });
      assert.deepEqual(strip(readConfig(fresh)), strip(readConfig(committed)), `${name}/config.json`);
      for (const file of readdirSync(committed).filter((f) => f.endsWith('.npy'))) {
        total++;
        const a = readFileSync(join(fresh, file));
        const b = readFileSync(join(committed, file));
        if (a.equals(b)) {
          bitIdentical++;
          continue;
        }
        const x = readNpy(join(fresh, file));
        const y = readNpy(join(committed, file));
        assert.equal(x.dtype, y.dtype, `${name}/${file}: dtype`);
        assert.deepEqual(x.shape, y.shape, `${name}/${file}: shape`);
        const tol = tolerance(file, y.dtype);
        const err = y.dtype === '<i8' ? (ints(x).join() === ints(y).join() ? 0 : Infinity) : relErr(floats(x), floats(y));
        assert.ok(err <= tol, `${name}/${file}: regenerated differs from committed by rel ${err} (tolerance ${tol})`);
      }
    }
    t.diagnostic(`${bitIdentical}/${total} .npy files bit-identical, the rest within tolerance`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

function runJsonScript(script: string, args: string[]): Record<string, unknown> {
  const r = spawnSync(PYTHON, [join(ROOT, 'scripts', 'torch-ref', script), ...args], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${script} failed:\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `${script} prints exactly one JSON line, got:\n${r.stdout}`);
  return JSON.parse(lines[0]) as Record<string, unknown>;
}

test('torch benches: train_bench.py and matmul_bench.py print one JSON line on a tiny config', (t) => {
  if (!torchAvailable()) {
    t.skip(`${PYTHON} has no torch/numpy (apt-get install python3-torch python3-numpy); benches not run`);
    return;
  }
  const tiny = ['--d-model', '32', '--layers', '2', '--heads', '4', '--vocab', '64', '--ctx', '16', '--batch', '3', '--threads', '1', '--steps', '3', '--warmup', '1'];
  for (const family of ['gpt2', 'llama']) {
    const r = runJsonScript('train_bench.py', ['--family', family, ...tiny]);
    assert.equal(r.impl, 'pytorch');
    for (const k of ['tokens_per_s', 'step_s_median', 'gflops_per_s', 'peak_rss_mb']) {
      assert.ok(typeof r[k] === 'number' && (r[k] as number) > 0, `${family}: ${k} = ${r[k]}`);
    }
    assert.equal(typeof r.flops_formula, 'string');
    // Same architecture as the fixtures: gpt2-tiny has 28032 parameters; llama with 4 kv heads, I=88: 29344.
    assert.equal(r.params, family === 'gpt2' ? 28032 : 29344, `${family}: parameter count`);
    assert.ok((r.loss_last as number) < (r.loss_first as number), `${family}: AdamW lowers the loss`);
  }
  const m = runJsonScript('matmul_bench.py', ['--m', '128', '--threads', '1', '--reps', '3']);
  assert.ok(typeof m.gflops_per_s === 'number' && m.gflops_per_s > 0, `sgemm GFLOP/s = ${m.gflops_per_s}`);
  t.diagnostic(`sgemm 128^3: ${(m.gflops_per_s as number).toFixed(1)} GFLOP/s via ${m.blas}`);
});

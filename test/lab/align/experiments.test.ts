// The LM alignment experiments end to end on a tiny random model: TRL metric names, samples.jsonl rows,
// HF-layout checkpoints, resume from a checkpoint, and clear errors for bad data files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess } from '../../../src/lab/runs/context';
import { dpoExperiment } from '../../../src/lab/align/dpo';
import { apoExperiment } from '../../../src/lab/align/apo';
import { p3oExperiment } from '../../../src/lab/align/p3o';
import { nashMpExperiment } from '../../../src/lab/align/nash-mp';
import { nashMdExperiment } from '../../../src/lab/align/nash-md';
import { importHfFolder } from '../../../src/lab/lm/hf-folder';
import { makeTinyModel } from './tiny-model';

const model = makeTinyModel();
const small = { model, prompts: 6, evalPrompts: 4, maxPromptTokens: 8, maxNewTokens: 4, batch: 8 };
const rows = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const keys = (dir: string) => new Set(rows(dir, 'metrics.jsonl').flatMap((r) => Object.keys(r)));

test('dpo: TRL metric names, samples, HF checkpoints; resumeFrom continues after the last round', async () => {
  const runsDir = mkdtempSync(join(tmpdir(), 'align-runs-'));
  const data = join(runsDir, 'prefs.jsonl');
  writeFileSync(data, ['The day', 'It was', 'He said', 'A man'].map((p) => JSON.stringify({ prompt: p, chosen: ' good and happy', rejected: ' bad and sad' })).join('\n') + '\n');
  const cfg = { ...small, rounds: 1, data, lr: 1e-2 };
  const a = await runInProcess(dpoExperiment, { runsDir, config: cfg, seed: 1 });
  for (const k of ['loss', 'rewards/chosen', 'rewards/rejected', 'rewards/accuracies', 'rewards/margins', 'logps/chosen', 'logps/rejected', 'eval/reward', 'eval/win_rate', 'objective/kl']) {
    assert.ok(keys(a.dir).has(k), `metric ${k}`);
  }
  const steps = rows(a.dir, 'metrics.jsonl').filter((r) => 'rewards/margins' in r);
  assert.ok((steps.at(-1)!['rewards/margins'] as number) > (steps[0]['rewards/margins'] as number), 'DPO widens the chosen/rejected margin');
  const ck = join(a.dir, 'artifacts', 'checkpoints', 'dpo', 'round-1');
  assert.ok(existsSync(join(ck, 'onnx', 'model.onnx')) && existsSync(join(ck, 'tokenizer.json')) && existsSync(join(ck, 'config.json')));
  importHfFolder(ck); // loadable
  const s = rows(a.dir, 'samples.jsonl')[0];
  for (const f of ['prompt', 'chosen', 'rejected', 'reward_chosen', 'reward_rejected', 'logp_chosen', 'logp_rejected']) assert.ok(f in s, `samples field ${f}`);
  const b = await runInProcess(dpoExperiment, { runsDir, config: { ...cfg, rounds: 2, resumeFrom: a.dir }, seed: 1 });
  const evalRounds = rows(b.dir, 'metrics.jsonl').filter((r) => 'round' in r).map((r) => r.round);
  assert.deepEqual(evalRounds, [2], 'only round 2 runs after resuming from round 1');
  assert.ok(existsSync(join(b.dir, 'artifacts', 'checkpoints', 'dpo', 'round-2', 'onnx', 'model.onnx')));
});

test('dpo: a bad preference JSONL fails naming the file, line and field', async () => {
  const d = mkdtempSync(join(tmpdir(), 'align-data-'));
  const f = join(d, 'prefs.jsonl');
  writeFileSync(f, '{"prompt":"The","chosen":"good","rejected":"bad"}\n{"prompt":"The","chosen":"good"}\n');
  await assert.rejects(runInProcess(dpoExperiment, { runsDir: d, config: { ...small, rounds: 1, data: f } }), /prefs\.jsonl:2: missing field 'rejected'/);
  writeFileSync(f, '{"prompt":"The","chosen":"good day","rejected":"bad day"}\n{"prompt":"It","chosen":"nice","rejected":"awful"}\n');
  const r = await runInProcess(dpoExperiment, { runsDir: d, config: { ...small, rounds: 1, data: f, loss: 'ipo' } });
  assert.ok(keys(r.dir).has('rewards/margins'));
});

test('apo: both arms logged with prefixes; APO branches off iterative DPO after round 1', async () => {
  const r = await runInProcess(apoExperiment, { config: { ...small, rounds: 3, samplesPerPrompt: 4 }, seed: 2, task: 'sentiment' });
  const k = keys(r.dir);
  for (const m of ['apo/eval/reward', 'iterative_dpo/eval/reward', 'apo/objective/kl', 'iterative_dpo/rewards/margins']) assert.ok(k.has(m), m);
  const s = r.summary as Record<string, number>;
  assert.equal(s.rounds, 3);
  assert.ok(existsSync(join(r.dir, 'artifacts', 'checkpoints', 'apo', 'round-3', 'previous.f32')));
  assert.ok(!existsSync(join(r.dir, 'artifacts', 'checkpoints', 'apo', 'round-1')), 'round 1 is shared with iterative DPO');
});

test('p3o and ppo arms, nash-mp / nash-md LM tasks run and log their metrics', async () => {
  const p = await runInProcess(p3oExperiment, { config: { ...small, iterations: 1, dropTies: false }, seed: 3 });
  for (const m of ['p3o/eval/reward', 'ppo/eval/reward', 'p3o/policy/clipfrac_avg', 'ppo/objective/kl']) assert.ok(keys(p.dir).has(m), m);
  const p2 = await runInProcess(p3oExperiment, { config: { ...small, iterations: 2, dropTies: false, resumeFrom: p.dir }, seed: 3 });
  assert.deepEqual(rows(p2.dir, 'metrics.jsonl').filter((r) => 'p3o/iteration' in r).map((r) => r['p3o/iteration']), [2], 'resumed after iteration 1');
  const n = await runInProcess(nashMpExperiment, { config: { ...small, task: 'lm', outerIterations: 1, innerSteps: 1, maxNewTokens: 2 }, seed: 3, task: 'lm' });
  for (const m of ['nash_mp/eval/win_rate', 'nash_md/eval/win_rate', 'nash_md/rewards/probabilities', 'nash_mp/objective/kl']) assert.ok(keys(n.dir).has(m), m);
  assert.equal((n.summary as Record<string, unknown>).intransitive, true);
  const md = await runInProcess(nashMdExperiment, { config: { ...small, task: 'lm', outerIterations: 1, innerSteps: 1, maxNewTokens: 2 }, seed: 3, task: 'lm' });
  assert.ok(Number.isFinite((md.summary as Record<string, number>).nash_md_win_rate));
});

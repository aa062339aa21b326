// Resume of the LM Nash runs (nash-mp task lm: PG-Nash-MP then TRL-style Nash-MD; nash-md task lm):
// HF-layout checkpoints per outer iteration / per block of steps, and resumeFrom continuing each arm
// after its newest checkpoint, as `proxlab run --resume <runId>` does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess } from '../../../src/lab/runs/context';
import { nashMpExperiment } from '../../../src/lab/align/nash-mp';
import { nashMdExperiment } from '../../../src/lab/align/nash-md';
import { nashResumePoint } from '../../../src/lab/align/nash-lm';
import { importHfFolder } from '../../../src/lab/lm/hf-folder';
import { makeTinyModel } from './tiny-model';

const model = makeTinyModel();
// 6 prompts in batches of 4: two optimizer steps per prompt batch.
const small = { model, task: 'lm', prompts: 6, evalPrompts: 4, maxPromptTokens: 8, maxNewTokens: 2, batch: 4, innerSteps: 1 };
const rows = (dir: string) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
const ck = (dir: string, arm: string, name: string) => join(dir, 'artifacts', 'checkpoints', arm, name);

test('nash-mp (lm): resumeFrom continues both arms after their last checkpoints', async () => {
  const runsDir = mkdtempSync(join(tmpdir(), 'nash-resume-'));
  const a = await runInProcess(nashMpExperiment, { runsDir, config: { ...small, outerIterations: 1 }, seed: 4, task: 'lm' });
  for (const c of [ck(a.dir, 'nash_mp', 'iteration-1'), ck(a.dir, 'nash_md', 'step-2')]) {
    assert.ok(existsSync(join(c, 'onnx', 'model.onnx')) && existsSync(join(c, 'tokenizer.json')), `HF checkpoint ${c}`);
    importHfFolder(c);
  }
  const mpA = rows(a.dir).filter((r) => 'nash_mp/outer_iteration' in r);
  assert.equal(mpA.length, 4, 'one outer iteration = 2 phases × 1 inner step × 2 batches');

  const b = await runInProcess(nashMpExperiment, { runsDir, config: { ...small, outerIterations: 2, resumeFrom: a.dir }, seed: 4, task: 'lm' });
  const mB = rows(b.dir);
  const mp = mB.filter((r) => 'nash_mp/outer_iteration' in r);
  assert.deepEqual([...new Set(mp.map((r) => r['nash_mp/outer_iteration']))], [2], 'Nash-MP runs only outer iteration 2');
  assert.deepEqual(mp.map((r) => r.step), [5, 6, 7, 8], 'step numbers continue after the 4 steps of the first run');
  const md = mB.filter((r) => 'nash_md/step' in r);
  assert.deepEqual([...new Set(md.map((r) => r['nash_md/step']))], [3, 4], 'Nash-MD continues after its step 2');
  const s = b.summary as Record<string, number>;
  assert.equal(s.nash_mp_iterations_run, 1);
  assert.equal(s.nash_md_steps_run, 2);
  assert.ok(Number.isFinite(s.nash_mp_win_rate) && Number.isFinite(s.nash_md_win_rate));
  assert.ok(existsSync(ck(b.dir, 'nash_mp', 'iteration-2')) && existsSync(ck(b.dir, 'nash_md', 'step-4')));

  // Resumed θ is the checkpoint's: the first resumed Nash-MP step starts from θ_1, not from the reference.
  const resumed = nashResumePoint(a.dir, 'nash_mp', 'iteration');
  assert.equal(resumed?.index, 1);
  const ref = importHfFolder(model).weights;
  const moved = [...resumed!.weights].some(([k, v]) => v.some((x, i) => x !== ref.get(k)![i]));
  assert.ok(moved, 'the iteration-1 checkpoint holds trained weights');
  assert.equal(nashResumePoint(a.dir, 'nash_md', 'step')?.index, 2);
  // A checkpoint folder of the other method is not taken for this arm.
  assert.equal(nashResumePoint(ck(a.dir, 'nash_mp', 'iteration-1'), 'nash_md', 'step'), null);
});

test('nash-mp (lm): a run interrupted inside Nash-MD resumes it from its intermediate checkpoint', async () => {
  const runsDir = mkdtempSync(join(tmpdir(), 'nash-resume-'));
  // 2 outer iterations → Nash-MD runs 4 steps, checkpointed at step 2 and step 4.
  const a = await runInProcess(nashMpExperiment, { runsDir, config: { ...small, outerIterations: 2 }, seed: 5, task: 'lm' });
  assert.ok(existsSync(ck(a.dir, 'nash_md', 'step-2')) && existsSync(ck(a.dir, 'nash_md', 'step-4')));
  rmSync(ck(a.dir, 'nash_md', 'step-4'), { recursive: true }); // as if killed during Nash-MD steps 3–4
  const b = await runInProcess(nashMpExperiment, { runsDir, config: { ...small, outerIterations: 2, resumeFrom: a.dir }, seed: 5, task: 'lm' });
  const m = rows(b.dir);
  assert.equal(m.filter((r) => 'nash_mp/outer_iteration' in r).length, 0, 'Nash-MP had finished: no step repeated');
  assert.deepEqual([...new Set(m.filter((r) => 'nash_md/step' in r).map((r) => r['nash_md/step']))], [3, 4]);
  assert.equal((b.summary as Record<string, number>).nash_mp_iterations_run, 0);
});

test('nash-md (lm): resumeFrom continues after the last step checkpoint; bad resume points are named', async () => {
  const runsDir = mkdtempSync(join(tmpdir(), 'nash-resume-'));
  const a = await runInProcess(nashMdExperiment, { runsDir, config: { ...small, outerIterations: 1 }, seed: 6, task: 'lm' });
  assert.ok(existsSync(ck(a.dir, 'nash_md', 'step-2')));
  const b = await runInProcess(nashMdExperiment, { runsDir, config: { ...small, outerIterations: 2, resumeFrom: a.dir }, seed: 6, task: 'lm' });
  assert.deepEqual([...new Set(rows(b.dir).filter((r) => 'nash_md/step' in r).map((r) => r['nash_md/step']))], [3, 4]);
  assert.equal((b.summary as Record<string, number>).steps_run, 2);
  // Resuming a longer run into a shorter one is refused with the checkpoint named.
  await assert.rejects(runInProcess(nashMdExperiment, { runsDir, config: { ...small, outerIterations: 1, resumeFrom: b.dir }, seed: 6, task: 'lm' }), /step-4 is after step 4, beyond the run's 2 Nash-MD steps/);
  await assert.rejects(runInProcess(nashMdExperiment, { runsDir, config: { ...small, resumeFrom: join(runsDir, 'missing') }, seed: 6, task: 'lm' }), /resumeFrom: .*missing does not exist/);
});

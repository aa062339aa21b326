import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startRun } from '../../../src/lab/runs/runner';
import { readJsonl, readRunRecord } from '../../../src/lab/runs/store';
import { ConfigError } from '../../../src/lab/runs/config';
import { ensureBuilt, tempRunsDir } from '../../helpers/cli';

ensureBuilt();

test('a run completes in a child process, relays progress and writes metrics, samples and artifacts', async () => {
  const h = startRun({ experiment: '_selftest', config: { steps: 10 }, seed: 3 }, { runsDir: tempRunsDir() });
  const progress: number[] = [];
  h.onProgress((p) => progress.push(p.step));
  const rec = await h.done;
  assert.equal(rec.status, 'completed', rec.error);
  assert.notEqual(rec.pid, process.pid);
  assert.deepEqual(rec.summary, { value: 0.1, steps: 10 });
  assert.equal(readJsonl(join(h.dir, 'metrics.jsonl')).length, 10);
  assert.equal(readJsonl(join(h.dir, 'samples.jsonl')).length, 1);
  assert.ok(progress.length > 0 && progress.at(-1) === 10, `progress ${progress}`);
});

test('same seed gives the same metrics', async () => {
  const a = startRun({ experiment: '_selftest', config: { steps: 5 }, seed: 11 }, { runsDir: tempRunsDir() });
  const b = startRun({ experiment: '_selftest', config: { steps: 5 }, seed: 11 }, { runsDir: tempRunsDir() });
  await Promise.all([a.done, b.done]);
  const strip = (rows: unknown[]) => rows.map((r) => ({ ...(r as object), time: 0 }));
  assert.deepEqual(strip(readJsonl(join(a.dir, 'metrics.jsonl'))), strip(readJsonl(join(b.dir, 'metrics.jsonl'))));
});

test('cancel mid-run leaves status cancelled', async () => {
  const h = startRun({ experiment: '_selftest', config: { mode: 'slow', steps: 500 } }, { runsDir: tempRunsDir() });
  await new Promise<void>((r) => h.onProgress((p) => p.step >= 2 && r()));
  const rec = await h.cancel();
  assert.equal(rec.status, 'cancelled');
  assert.equal(readRunRecord(h.dir)?.status, 'cancelled');
});

test('a child that ignores the cancel message is stopped by SIGTERM/SIGKILL and marked cancelled', async () => {
  const h = startRun({ experiment: '_selftest', config: { mode: 'slow', steps: 500, ignoreCancel: true } }, { runsDir: tempRunsDir(), cancelGraceMs: 300, killGraceMs: 300 });
  await new Promise<void>((r) => h.onProgress((p) => p.step >= 1 && r()));
  const rec = await h.cancel();
  assert.equal(rec.status, 'cancelled');
});

test('a child that throws leaves failed with the message', async () => {
  const h = startRun({ experiment: '_selftest', config: { mode: 'throw', steps: 4 } }, { runsDir: tempRunsDir() });
  const rec = await h.done;
  assert.equal(rec.status, 'failed');
  assert.match(rec.error ?? '', /selftest failure at step 2/);
});

test('a child that exits abruptly or runs out of memory is marked failed; the parent survives', async () => {
  const exit = await startRun({ experiment: '_selftest', config: { mode: 'exit', steps: 4 } }, { runsDir: tempRunsDir() }).done;
  assert.equal(exit.status, 'failed');
  assert.match(exit.error ?? '', /exited with code 3/);
  const oom = await startRun({ experiment: '_selftest', config: { mode: 'oom', steps: 2 } }, { runsDir: tempRunsDir(), maxOldSpaceMb: 64 }).done;
  assert.equal(oom.status, 'failed');
  assert.match(oom.error ?? '', /heap out of memory|signal SIGABRT|exited/);
});

test('invalid specs are refused before anything starts', () => {
  assert.throws(() => startRun({ experiment: 'nope' }, { runsDir: tempRunsDir() }), /unknown experiment 'nope'/);
  assert.throws(() => startRun({ experiment: 'cbo', config: { dim: 0 } }, { runsDir: tempRunsDir() }), ConfigError);
  assert.throws(() => startRun({ experiment: 'cbo', task: 'sphere' }, { runsDir: tempRunsDir() }), /has no task 'sphere'/);
});

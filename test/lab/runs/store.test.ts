import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonlFrom, readRunRecord, RunStore, watchJsonl, writeRunRecord, type RunRecord } from '../../../src/lab/runs/store';
import { CLI, ensureBuilt, tempRunsDir } from '../../helpers/cli';

function newRun(store: RunStore, experiment = 'cbo') {
  return store.create({ experiment, task: 't', config: { a: 1 }, seed: 0, device: 'cpu', threads: 1, versions: {}, pid: process.pid });
}

test('create lays out the run folder; list, get by prefix/suffix, update and delete', () => {
  const store = new RunStore(tempRunsDir());
  const { record, dir } = newRun(store);
  for (const f of ['run.json', 'metrics.jsonl', 'samples.jsonl', 'artifacts']) assert.ok(existsSync(join(dir, f)), f);
  assert.equal(dir, join(store.runsDir, 'cbo', record.id));
  assert.equal(store.list().length, 1);
  assert.equal(store.get(record.id)?.id, record.id);
  assert.equal(store.get(record.id.slice(-4))?.id, record.id);
  assert.equal(store.update(record.id, { status: 'completed' }).status, 'completed');
  assert.equal(readRunRecord(dir)?.status, 'completed');
  store.delete(record.id);
  assert.equal(store.list().length, 0);
});

test('a reader never sees a partial run.json while another process rewrites it', async () => {
  const store = new RunStore(tempRunsDir());
  const { record, dir } = newRun(store);
  const big = { ...record, summary: { blob: 'x'.repeat(200_000) } };
  writeRunRecord(dir, big);
  const writer = spawn(process.execPath, ['--import', 'tsx', '-e', `
    const { writeRunRecord } = require(${JSON.stringify(join(__dirname, '../../../src/lab/runs/store.ts'))});
    const rec = JSON.parse(require('fs').readFileSync(${JSON.stringify(join(dir, 'run.json'))}, 'utf8'));
    for (let i = 0; i < 400; i++) writeRunRecord(${JSON.stringify(dir)}, { ...rec, progress: { step: i, total: 400 } });
  `], { stdio: 'inherit' });
  let exited = false;
  writer.on('exit', () => (exited = true));
  let reads = 0;
  let failures = 0;
  while (!exited) {
    const text = readFileSync(join(dir, 'run.json'), 'utf8');
    try {
      JSON.parse(text);
    } catch {
      failures++;
    }
    reads++;
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(writer.exitCode, 0);
  assert.ok(reads > 5, `only ${reads} reads`);
  assert.equal(failures, 0, `${failures} of ${reads} reads saw a partial run.json`);
});

test('a torn last JSONL line is skipped and read once it is complete; offsets resume', () => {
  const store = new RunStore(tempRunsDir());
  const { dir } = newRun(store);
  const p = join(dir, 'metrics.jsonl');
  writeFileSync(p, '{"step":1,"x":1}\n{"step":2,"x":2}\n{"step":3,"x"');
  const a = readJsonlFrom(p, 0);
  assert.deepEqual(a.rows, [{ step: 1, x: 1 }, { step: 2, x: 2 }]);
  appendFileSync(p, ':3}\n{"step":4,"x":4}\n');
  const b = readJsonlFrom(p, a.offset);
  assert.deepEqual(b.rows, [{ step: 3, x: 3 }, { step: 4, x: 4 }]);
  assert.deepEqual(readJsonlFrom(p, b.offset).rows, []);
  appendFileSync(p, 'garbage\n{"step":5}\n');
  assert.deepEqual(readJsonlFrom(p, b.offset).rows, [{ step: 5 }]);
});

test('watchJsonl delivers appended rows incrementally', async () => {
  const store = new RunStore(tempRunsDir());
  const { dir } = newRun(store);
  const p = join(dir, 'metrics.jsonl');
  const got: unknown[] = [];
  const w = watchJsonl(p, (rows) => got.push(...rows), { pollMs: 50 });
  appendFileSync(p, '{"step":1}\n');
  await new Promise((r) => setTimeout(r, 300));
  appendFileSync(p, '{"step":2}\n{"step":3}\n');
  await new Promise((r) => setTimeout(r, 300));
  w.close();
  assert.deepEqual(got, [{ step: 1 }, { step: 2 }, { step: 3 }]);
});

test('a run whose processes were killed with SIGKILL mid-run is marked interrupted on the next scan', async () => {
  ensureBuilt();
  const runsDir = tempRunsDir();
  const cli = spawn(process.execPath, [CLI, 'run', '_selftest', '--set', 'mode=slow', '--set', 'steps=200', '--runs-dir', runsDir, '--quiet'], { detached: true, stdio: 'ignore' });
  const store = new RunStore(runsDir);
  let rec: RunRecord | undefined;
  for (let i = 0; i < 200 && !(rec?.startedAt && rec.pid); i++) {
    await new Promise((r) => setTimeout(r, 100));
    rec = store.list()[0];
  }
  assert.ok(rec?.pid, 'the run started');
  await new Promise((r) => setTimeout(r, 400));
  process.kill(-cli.pid!, 'SIGKILL'); // the CLI and its run child, like a crashed terminal
  await new Promise((r) => setTimeout(r, 2500));
  const after = store.get(rec!.id)!;
  assert.equal(after.status, 'interrupted');
  assert.match(after.error ?? '', /ended without reporting/);
  const dir = store.dirOf(after.id);
  assert.ok(readJsonlFrom(join(dir, 'metrics.jsonl')).rows.length > 0, 'metrics written before the kill survive');
});

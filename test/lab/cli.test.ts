import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, tempRunsDir } from '../helpers/cli';

test('help texts', async () => {
  for (const args of [['--help'], ['run', '--help'], ['runs', '--help'], ['show', '--help'], ['export', '--help'], ['claims', '--help'], ['list', '--help']]) {
    const r = await runCli(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /Usage: proxlab/);
  }
  const r = await runCli(['run', 'cbo', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /dim\s+integer \[2 \.\. 100\], default 10/);
  assert.match(r.stdout, /Claim:/);
});

test('list shows methods with kind and status', async () => {
  const r = await runCli(['list', '--runs-dir', tempRunsDir()]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /cbo\s+solver\s+runs/);
  assert.match(r.stdout, /dpo\s+alignment/);
  const j = await runCli(['list', '--json', '--runs-dir', tempRunsDir()]);
  assert.equal(JSON.parse(j.stdout).length >= 41, true);
});

test('bad input exits 2 with a message naming the field, never a stack trace', async () => {
  const runsDir = tempRunsDir();
  const dir = mkdtempSync(join(tmpdir(), 'cli-'));
  writeFileSync(join(dir, 'bad.json'), '{ nope');
  const cases: [string[], RegExp][] = [
    [['run', 'cbo', '--set', 'dim=1000'], /dim: got 1000, expected a value <= 100/],
    [['run', 'cbo', '--set', 'dim=abc'], /dim: got "abc", expected a number/],
    [['run', 'cbo', '--set', 'nope=1'], /nope: unknown key/],
    [['run', 'cbo', '--set', 'objective=sphere'], /objective: got "sphere", expected one of: rastrigin, ackley/],
    [['run', 'cbo', '--config', join(dir, 'bad.json')], /--config: .*not valid JSON/],
    [['run', 'cbo', '--config', join(dir, 'missing.json')], /--config: cannot read .*no such file/],
    [['run', 'cbo', '--seed=-1'], /--seed: got '-1', expected an integer/],
    [['run', 'cbo', '--device', 'tpu'], /--device: got 'tpu', expected cpu or cuda/],
    [['run', 'cbo', '--threads', 'many'], /--threads: got 'many'/],
    [['run', 'cbo', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['run', 'nosuch'], /unknown experiment 'nosuch'/],
    [['show', 'nosuchrun'], /no run 'nosuchrun'/],
    [['export', 'x', '--format', 'xml'], /--format: got 'xml', expected csv or jsonl/],
    [['claims', '--only', 'nosuch'], /--only: unknown experiment 'nosuch'/],
    [['frob'], /unknown command 'frob'/],
  ];
  for (const [args, re] of cases) {
    const r = await runCli([...args, '--runs-dir', runsDir]);
    assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `stack trace for ${args.join(' ')}`);
  }
});

test('run cbo end to end, then show, runs and export (CSV has the logged columns)', async () => {
  const runsDir = tempRunsDir();
  const r = await runCli(['run', 'cbo', '--set', 'dim=4', '--set', 'steps=200', '--set', 'particles=50', '--seed', '5', '--runs-dir', runsDir]);
  assert.equal(r.code, 0, r.stderr);
  const id = /run (\S+) completed/.exec(r.stdout)?.[1];
  assert.ok(id, r.stdout);
  const show = await runCli(['show', id!, '--runs-dir', runsDir]);
  assert.equal(show.code, 0);
  assert.match(show.stdout, /status\s+completed/);
  assert.match(show.stdout, /dim: 4/);
  assert.match(show.stdout, /cbo\/objective: /);
  const runs = await runCli(['runs', '--runs-dir', runsDir]);
  assert.match(runs.stdout, new RegExp(`${id}\\s+cbo\\s+completed`));
  const csv = await runCli(['export', id!, '--format', 'csv', '--runs-dir', runsDir]);
  assert.equal(csv.code, 0);
  const [header, ...lines] = csv.stdout.trim().split('\n');
  for (const col of ['step', 'time', 'cbo/objective', 'cbo/best_objective', 'cbo/consensus_distance', 'cbo/alpha', 'random_search/best_objective']) {
    assert.ok(header.split(',').includes(col), `missing column ${col} in ${header}`);
  }
  assert.ok(lines.length >= 20);
  const jsonl = await runCli(['export', id!.slice(-4), '--format', 'jsonl', '--runs-dir', runsDir]);
  assert.equal(jsonl.stdout.trim().split('\n').length, lines.length);
  assert.equal(typeof JSON.parse(jsonl.stdout.split('\n')[0]).step, 'number');
});

test('a failing run exits 1 and shows its error', async () => {
  const r = await runCli(['run', '_selftest', '--set', 'mode=throw', '--set', 'steps=2', '--runs-dir', tempRunsDir()]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: selftest failure at step 1/);
});

test('claims --only cbo prints a table, stores the outcome, and list reports the status', async () => {
  const runsDir = tempRunsDir();
  const r = await runCli(['claims', '--only', 'cbo', '--runs-dir', runsDir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /cbo\s+PASS\s+fast/);
  assert.match(r.stdout, /1 passed, 0 failed/);
  const list = await runCli(['list', '--runs-dir', runsDir]);
  assert.match(list.stdout, /cbo\s+solver\s+claim reproduced/);
});

test('run --resume continues a failed run as a new run with the same config and seed; experiments without checkpoints refuse', async () => {
  const runsDir = tempRunsDir();
  const first = await runCli(['run', '_selftest', '--set', 'mode=exit', '--set', 'steps=6', '--seed', '4', '--runs-dir', runsDir]);
  assert.equal(first.code, 1, first.stdout + first.stderr);
  const id = /run (\S+) failed/.exec(first.stdout)?.[1];
  assert.ok(id, first.stdout);
  const again = await runCli(['run', '--resume', id!, '--runs-dir', runsDir]);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stderr, /resuming after step 3 of /);
  assert.match(again.stdout, /first_step: 4/);
  const newId = /run (\S+) completed/.exec(again.stdout)?.[1];
  const show = await runCli(['show', newId!, '--json', '--runs-dir', runsDir]);
  const rec = JSON.parse(show.stdout);
  assert.equal(rec.seed, 4);
  assert.equal(rec.config.mode, 'exit');
  assert.match(rec.config.resumeFrom, new RegExp(`${id}$`));
  const cbo = await runCli(['run', 'cbo', '--set', 'steps=5', '--set', 'particles=4', '--runs-dir', runsDir]);
  const cboId = /run (\S+) completed/.exec(cbo.stdout)?.[1];
  const refused = await runCli(['run', '--resume', cboId!, '--runs-dir', runsDir]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--resume: experiment 'cbo' keeps no checkpoints to resume from/);
  const wrong = await runCli(['run', 'cbo', '--resume', id!, '--runs-dir', runsDir]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /is a '_selftest' run, not 'cbo'/);
});

// Command handlers against a fake `vscode` and a real run store and CLI child process:
// New Experiment (quick picks, the schema form with an edited field, a real `cbo` run through the
// runner), Export (CSV through the CLI), Delete (only after confirmation), and workspace trust
// (an untrusted workspace keeps runs out of the workspace and offers no config files from it).
import './register-vscode';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, copyFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { registerCommands } from '../../src/extension/commands';
import { RunPanels } from '../../src/extension/panels';
import { Services } from '../../src/extension/services';
import { getExperiment } from '../../src/lab/runs/registry';
import { RunStore } from '../../src/lab/runs/store';
import { fakeContext, recorded, reset, Uri, window as fakeWindow, workspace as fakeWorkspace } from './mock-vscode';

const root = join(__dirname, '../..');
let ext: string;

before(async () => {
  // an extension folder with the CLI bundle the runner forks
  ext = mkdtempSync(join(tmpdir(), 'proxlab-cmd-'));
  mkdirSync(join(ext, 'dist'));
  copyFileSync(join(root, 'package.json'), join(ext, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(ext, 'node_modules')); // the CLI's externals (onnxruntime-node, ...)
  await esbuild.build({
    entryPoints: [join(root, 'src/cli.ts')],
    outfile: join(ext, 'dist/cli.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'onnxruntime-node', '@huggingface/transformers', '@huggingface/tokenizers', 'sharp', 'playwright-core'],
    logLevel: 'error',
  });
});

after(() => rmSync(ext, { recursive: true, force: true }));

function setup(trusted = true) {
  reset();
  fakeWorkspace.isTrusted = trusted;
  const ws = join(ext, `ws-${Math.random().toString(36).slice(2)}`);
  mkdirSync(ws);
  fakeWorkspace.workspaceFolders = [{ uri: Uri.file(ws), name: 'ws', index: 0 }];
  const services = new Services(fakeContext(ext, join(ext, 'storage')) as any, fakeWindow.createOutputChannel('t') as any);
  const panels = new RunPanels(services);
  const disposables = registerCommands(services, panels, () => undefined);
  const run = (id: string, ...args: unknown[]) => recorded.commands.get(id)!(...args) as Promise<unknown>;
  return { ws, services, panels, run, dispose: () => (disposables.forEach((d) => d.dispose()), panels.dispose()) };
}

const cbo = getExperiment('cbo');

test('New Experiment: method, task, form with an edited field, real run; then Export and Delete', { skip: cbo ? false : 'cbo is not registered' }, async () => {
  const { ws, services, run, dispose } = setup();
  try {
    recorded.quickPickAnswers.push(
      (items) => items.find((i: any) => i.label === 'cbo'), // method
      (items) => items[0], // task (default first)
      (items) => items.find((i: any) => i.field === 'steps'), // form: edit steps
      (items) => items.find((i: any) => i.action === 'start'), // form: Start run
    );
    recorded.inputAnswers.push('20');
    const id = (await run('proxlab.newExperiment')) as string;
    assert.ok(id, `a run was started (messages: ${JSON.stringify(recorded.messages)})`);
    const form = recorded.quickPickItems[2] as any[];
    assert.ok(form.some((i) => i.field === 'steps'), 'the form lists the schema fields');
    assert.ok(form.some((i) => i.action === 'load'), 'trusted: loading a settings file is offered');
    await services.active.get(id)?.done;
    const store = new RunStore(join(ws, '.proxlab', 'runs'));
    const rec = store.get(id)!;
    assert.equal(rec.status, 'completed', rec.error);
    assert.equal(rec.config.steps, 20);
    assert.ok(existsSync(join(store.dirOf(id), 'metrics.jsonl')));
    assert.equal(recorded.panels.length, 1, 'the live run panel opened');

    // Export metrics as CSV through the CLI
    const out = join(ws, 'metrics.csv');
    recorded.quickPickAnswers.push((items) => items.find((i: any) => i.label === 'Metrics as CSV'));
    recorded.saveAnswers.push(Uri.file(out));
    await run('proxlab.exportRun', id);
    const csv = readFileSync(out, 'utf8').trim().split('\n');
    assert.match(csv[0], /^step,time,/);
    assert.ok(csv.length > 2);

    // Reveal: the run folder is in the workspace, so the Explorer shows it
    await run('proxlab.revealRun', id);
    const reveal = recorded.executed.at(-1)!;
    assert.equal(reveal.command, 'revealInExplorer');
    assert.equal((reveal.args[0] as Uri).fsPath, join(store.dirOf(id), 'run.json'));

    // Delete asks first; dismissing keeps the run
    recorded.buttonAnswers.push(undefined);
    await run('proxlab.deleteRun', id);
    assert.ok(store.get(id), 'dismissed: the run stays');
    const confirm = recorded.messages.filter((m) => m.level === 'warn').at(-1)!;
    assert.deepEqual(confirm.items, [{ modal: true }, 'Delete']);
    recorded.buttonAnswers.push('Delete');
    await run('proxlab.deleteRun', id);
    assert.equal(store.get(id), undefined, 'confirmed: the run is deleted');
  } finally {
    dispose();
  }
});

test('New Experiment: the form blocks an invalid value and Stop cancels a live run', { skip: cbo ? false : 'cbo is not registered' }, async () => {
  const { ws, services, run, dispose } = setup();
  try {
    recorded.quickPickAnswers.push(
      (items) => items.find((i: any) => i.label === 'cbo'),
      (items) => items[0],
      (items) => items.find((i: any) => i.field === 'steps'),
      (items) => items.find((i: any) => i.field === 'steps'),
      (items) => items.find((i: any) => i.action === 'start'),
    );
    recorded.inputAnswers.push('0', '100000');
    const id = (await run('proxlab.newExperiment')) as string;
    assert.match(recorded.validations[0].message ?? '', /steps: 0 is too small; expected an integer ≥ 1/);
    assert.equal(recorded.validations[1].message, undefined);
    const stepsRow = (k: number) => (recorded.quickPickItems[k] as any[]).find((i) => i.field === 'steps').label;
    assert.equal(stepsRow(3), stepsRow(2), 'an invalid value leaves the field unchanged');
    assert.match(stepsRow(4), /steps = 100000$/);
    assert.equal(new RunStore(join(ws, '.proxlab', 'runs')).get(id)!.config.steps, 100000);
    await new Promise((r) => setTimeout(r, 500));
    await run('proxlab.stopRun', id);
    const rec = new RunStore(join(ws, '.proxlab', 'runs')).get(id)!;
    assert.equal(rec.status, 'cancelled');
    assert.equal(services.active.size, 0);
  } finally {
    dispose();
  }
});

test('untrusted workspace: runs go to global storage, no workspace settings files are offered', { skip: cbo ? false : 'cbo is not registered' }, async () => {
  const { ws, services, run, dispose } = setup(false);
  try {
    recorded.settings.set('proxlab.runsDir', 'relative/runs'); // a workspace value VS Code would also ignore
    assert.equal(services.runsDir(), join(ext, 'storage', 'global', 'runs'));
    recorded.quickPickAnswers.push((items) => items.find((i: any) => i.label === 'cbo'), (items) => items[0], () => undefined);
    await run('proxlab.newExperiment');
    const form = recorded.quickPickItems[2] as any[];
    assert.ok(form.some((i) => i.action === 'start'));
    assert.ok(!form.some((i) => i.action === 'load'), 'untrusted: no loading of workspace config files');
    assert.ok(!existsSync(join(ws, '.proxlab')), 'nothing written into the untrusted workspace');
  } finally {
    dispose();
  }
});

test('Run Claim Checks runs the chosen checks in a child process and shows the table', { skip: cbo?.claim ? false : 'cbo has no claim check' }, async () => {
  const { ws, run, dispose } = setup();
  try {
    recorded.quickPickAnswers.push((items) => items.filter((i: any) => i.label === 'cbo'));
    await run('proxlab.runClaimChecks');
    const offered = recorded.quickPickItems[0] as any[];
    assert.ok(offered.every((i) => i.picked), 'all checks are preselected');
    assert.equal(recorded.documents.length, 1, `a report was opened (messages: ${JSON.stringify(recorded.messages)})`);
    assert.match(recorded.documents[0], /\| cbo \| ✅ pass \| fast \|/);
    assert.ok(recorded.executed.some((e) => e.command === 'markdown.showPreview'));
    const claims = JSON.parse(readFileSync(join(ws, '.proxlab', 'runs', 'claims.json'), 'utf8'));
    assert.equal(claims.cbo.pass, true);
  } finally {
    dispose();
  }
});

test('a run that dies shows its error with an Open Run button', { skip: cbo ? false : 'cbo is not registered' }, async () => {
  const { ws, services, run, dispose } = setup();
  try {
    recorded.quickPickAnswers.push(
      (items) => items.find((i: any) => i.label === 'cbo'),
      (items) => items[0],
      (items) => items.find((i: any) => i.field === 'steps'),
      (items) => items.find((i: any) => i.action === 'start'),
    );
    recorded.inputAnswers.push('100000');
    recorded.buttonAnswers.push('Open Run');
    const id = (await run('proxlab.newExperiment')) as string;
    const handle = services.active.get(id)!;
    const store = new RunStore(join(ws, '.proxlab', 'runs'));
    recorded.panels[0].dispose(); // the user closed the live panel
    await new Promise((r) => setTimeout(r, 300));
    process.kill(store.get(id)!.pid!, 'SIGKILL'); // a native crash or OOM looks like this
    await handle.done;
    await new Promise((r) => setTimeout(r, 50));
    const err = recorded.messages.find((m) => m.level === 'error');
    assert.ok(err, 'an error message is shown');
    assert.match(err.text, new RegExp(`run ${id} failed: run process exited with signal SIGKILL`));
    assert.deepEqual(err.items, ['Open Run']);
    assert.equal(recorded.panels.length, 2, 'Open Run opened the run panel again');
    assert.equal(store.get(id)!.status, 'failed');
  } finally {
    dispose();
  }
});

test('Run Optimizer offers only solver and optimizer experiments', async () => {
  const { run, dispose } = setup();
  try {
    recorded.quickPickAnswers.push(() => undefined);
    await run('proxlab.runOptimizer');
    const items = (recorded.quickPickItems[0] as any[]).filter((i) => i.exp);
    assert.ok(items.length > 0);
    for (const i of items) assert.ok(['solver', 'optimizer'].includes(i.exp.kind), `${i.label} is ${i.exp.kind}`);
    const separators = (recorded.quickPickItems[0] as any[]).filter((i) => i.kind === -1).map((i) => i.label);
    assert.ok(separators.every((l) => l === 'Solvers' || l === 'Optimizers'), `groups: ${separators}`);
  } finally {
    dispose();
  }
});

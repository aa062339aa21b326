// Run panels against a fake webview: strict CSP in the HTML, the snapshot on `ready`, metrics
// tailed incrementally from metrics.jsonl, malformed webview messages ignored and logged,
// artifact paths confined to artifacts/, and the serializer restoring a panel from its state.
import './register-vscode';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore, writeRunRecord } from '../../src/lab/runs/store';
import { RunPanels, listArtifacts, isPanelState, runTitle } from '../../src/extension/panels';
import { Services } from '../../src/extension/services';
import { fakeContext, recorded, reset, window as fakeWindow, FakePanel } from './mock-vscode';

const waitFor = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
};

test('run panel: snapshot on ready, incremental metrics, validation, serializer', async () => {
  reset();
  const dir = mkdtempSync(join(tmpdir(), 'proxlab-panel-'));
  try {
    const store = new RunStore(dir);
    const { record, dir: runDir } = store.create({ experiment: 'cbo', task: 'sphere', config: { particles: 50 }, seed: 1, device: 'cpu', threads: 1, versions: {} });
    writeRunRecord(runDir, { ...record, pid: process.pid });
    appendFileSync(join(runDir, 'metrics.jsonl'), '{"step":0,"time":0,"objective":5}\n{"step":1,"time":0.1,"objective":4}\n');
    appendFileSync(join(runDir, 'samples.jsonl'), '{"prompt":"p","completion":"c"}\n');
    mkdirSync(join(runDir, 'artifacts', 'plots'), { recursive: true });
    writeFileSync(join(runDir, 'artifacts', 'plots', 'x.txt'), 'hello');
    recorded.settings.set('proxlab.runsDir', dir);
    const services = new Services(fakeContext(dir, dir) as any, fakeWindow.createOutputChannel('t') as any);
    const panels = new RunPanels(services);
    panels.open(record.id);
    const panel = recorded.panels[0];
    assert.ok(panel, 'a panel was created');
    const html = panel.webview.html;
    const nonce = /nonce-([A-Za-z0-9]+)/.exec(html)?.[1];
    assert.ok(nonce && nonce.length >= 32);
    assert.match(html, /default-src 'none'/);
    assert.doesNotMatch(html, /unsafe-inline|unsafe-eval/);
    assert.match(html, new RegExp(`<script nonce="${nonce}" src="[^"]*main\\.js"`));

    panel.receive({ type: 'ready' });
    await waitFor(() => panel.posted.some((m) => m.type === 'init'));
    const init = panel.posted.find((m) => m.type === 'init');
    assert.equal(init.view, 'run');
    assert.equal(init.run.id, record.id);
    assert.deepEqual(init.metrics.step, [0, 1]);
    assert.deepEqual(init.metrics.values.objective, [5, 4]);
    assert.equal(init.samples.length, 1);
    assert.deepEqual(init.artifacts, [{ name: 'plots/x.txt', size: 5 }]);

    // appended rows arrive as deltas, not as a re-sent snapshot
    appendFileSync(join(runDir, 'metrics.jsonl'), '{"step":2,"time":0.2,"objective":3}\n{"step":3,"time":0.3,"objective":2,"gap":0.5}\n');
    await waitFor(() => panel.posted.some((m) => m.type === 'metrics'));
    const deltas = panel.posted.filter((m) => m.type === 'metrics');
    assert.deepEqual(deltas.flatMap((d) => d.batch.step), [2, 3]);
    assert.deepEqual(deltas.at(-1).batch.values.gap.at(-1), 0.5);

    // a status change is pushed
    writeRunRecord(runDir, { ...record, status: 'completed', summary: { objective: 2 } });
    await waitFor(() => panel.posted.some((m) => m.type === 'run' && m.run.status === 'completed'));

    // malformed messages are ignored and logged; artifact paths cannot escape artifacts/
    panel.receive({ type: 'openArtifact', runId: record.id, name: '../run.json' });
    panel.receive({ type: 'bogus' });
    panel.receive(42);
    assert.equal(recorded.logs.filter((l) => l.startsWith('warn: run panel: ignored')).length, 3);
    assert.equal(recorded.executed.filter((e) => e.command === 'vscode.open').length, 0);
    panel.receive({ type: 'openArtifact', runId: record.id, name: 'plots/x.txt' });
    await waitFor(() => recorded.executed.some((e) => e.command === 'vscode.open'));

    // re-ready (webview reloaded) sends a full snapshot again
    const inits = () => panel.posted.filter((m) => m.type === 'init').length;
    panel.receive({ type: 'ready' });
    await waitFor(() => inits() === 2);
    assert.deepEqual(panel.posted.filter((m) => m.type === 'init')[1].metrics.step, [0, 1, 2, 3]);
    panel.dispose();

    // the serializer restores a panel from its saved state and rejects a bad one
    const restored = new FakePanel('proxlab.runPanel', 'restored');
    await panels.deserializeWebviewPanel(restored as any, { view: 'run', runIds: [record.id] });
    assert.match(restored.webview.html, /Content-Security-Policy/);
    const bad = new FakePanel('proxlab.runPanel', 'bad');
    await panels.deserializeWebviewPanel(bad as any, { view: 'nope' });
    assert.ok(bad.disposed);
    panels.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('listArtifacts, isPanelState and panel titles', () => {
  assert.equal(runTitle('20261128-184423-sor-bandit-k5eq'), 'sor-bandit · k5eq');
  assert.equal(runTitle('20261128-184423-cbo-k5eq', 'CBO'), 'CBO · k5eq');
  assert.equal(runTitle('odd'), 'run · odd');
  const dir = mkdtempSync(join(tmpdir(), 'proxlab-art-'));
  try {
    assert.deepEqual(listArtifacts(dir), []);
    mkdirSync(join(dir, 'artifacts', 'a'), { recursive: true });
    writeFileSync(join(dir, 'artifacts', 'a', 'b.bin'), Buffer.alloc(10));
    writeFileSync(join(dir, 'artifacts', 'c.json'), '{}');
    assert.deepEqual(listArtifacts(dir), [{ name: 'a/b.bin', size: 10 }, { name: 'c.json', size: 2 }]);
    assert.ok(isPanelState({ view: 'compare', runIds: ['a', 'b'] }));
    assert.ok(!isPanelState({ view: 'run', runIds: [] }));
    assert.ok(!isPanelState({ view: 'run', runIds: [1] }));
    assert.ok(!isPanelState(null));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compare panel: one snapshot with every run, then deltas per run', async () => {
  reset();
  const dir = mkdtempSync(join(tmpdir(), 'proxlab-compare-'));
  try {
    const store = new RunStore(dir);
    const mk = (sigma: number) => {
      const { record, dir: d } = store.create({ experiment: 'cbo', task: 'sphere', config: { sigma }, seed: 0, device: 'cpu', threads: 1, versions: {} });
      writeRunRecord(d, { ...record, pid: process.pid });
      appendFileSync(join(d, 'metrics.jsonl'), `{"step":0,"time":0,"objective":${sigma}}\n`);
      return { id: record.id, dir: d };
    };
    const a = mk(0.1);
    const b = mk(0.9);
    recorded.settings.set('proxlab.runsDir', dir);
    const services = new Services(fakeContext(dir, dir) as any, fakeWindow.createOutputChannel('t') as any);
    const panels = new RunPanels(services);
    panels.compare([a.id, b.id]);
    panels.compare([a.id, b.id]); // the same comparison is revealed, not duplicated
    assert.equal(recorded.panels.length, 1);
    const panel = recorded.panels[0];
    panel.receive({ type: 'ready' });
    await waitFor(() => panel.posted.some((m) => m.type === 'init'));
    const init = panel.posted.find((m) => m.type === 'init');
    assert.equal(init.view, 'compare');
    assert.deepEqual(init.runs.map((r: any) => [r.run.id, r.metrics.values.objective[0]]), [[a.id, 0.1], [b.id, 0.9]]);
    appendFileSync(join(b.dir, 'metrics.jsonl'), '{"step":1,"time":1,"objective":0.5}\n');
    await waitFor(() => panel.posted.some((m) => m.type === 'metrics'));
    assert.equal(panel.posted.find((m) => m.type === 'metrics').runId, b.id);
    panels.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

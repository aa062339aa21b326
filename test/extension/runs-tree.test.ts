// The Runs tree over a real run store (temp folder): grouping by experiment, status icons,
// context values for the menus, and interrupted runs (dead process) shown as such.
import './register-vscode';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore, writeRunRecord } from '../../src/lab/runs/store';
import { RunsTree, groupRuns, runIdOf, type RunsNode } from '../../src/extension/runs-tree';
import { Services } from '../../src/extension/services';
import { fakeContext, recorded, reset, window as fakeWindow } from './mock-vscode';

function makeStore(dir: string) {
  const store = new RunStore(dir);
  const base = { task: 'sphere', config: { n: 1 }, seed: 0, device: 'cpu' as const, threads: 1, versions: {} };
  const a = store.create({ ...base, experiment: 'cbo' });
  writeRunRecord(a.dir, { ...a.record, status: 'completed', summary: { objective: 0.0123 } });
  const b = store.create({ ...base, experiment: 'cbo' });
  writeRunRecord(b.dir, { ...b.record, status: 'failed', error: 'boom' });
  const c = store.create({ ...base, experiment: 'sor-bandit' });
  writeRunRecord(c.dir, { ...c.record, status: 'running', pid: process.pid, progress: { step: 3, total: 10 } });
  const d = store.create({ ...base, experiment: 'sor-bandit' });
  // a "running" run whose process is gone: the store marks it interrupted
  writeRunRecord(d.dir, { ...d.record, status: 'running', pid: 2 ** 22 + 12345, createdAt: new Date(Date.now() - 60_000).toISOString() });
  return { a: a.record.id, b: b.record.id, c: c.record.id, d: d.record.id };
}

test('runs tree groups runs by experiment with live status icons', async () => {
  reset();
  const dir = mkdtempSync(join(tmpdir(), 'proxlab-runs-'));
  try {
    const ids = makeStore(dir);
    recorded.settings.set('proxlab.runsDir', dir);
    const services = new Services(fakeContext(dir, dir) as any, fakeWindow.createOutputChannel('t') as any);
    const tree = new RunsTree(services);
    await new Promise((r) => setTimeout(r, 2100)); // let the dead run's heartbeat grace pass
    const groups = await tree.getChildren();
    assert.deepEqual(groups.map((g) => (g as { experiment: string }).experiment).sort(), ['cbo', 'sor-bandit']);
    const items = new Map<string, any>();
    for (const g of groups) for (const n of await tree.getChildren(g)) items.set((n as { run: { id: string } }).run.id, tree.getTreeItem(n));
    assert.equal(items.size, 4);
    assert.equal(items.get(ids.a).iconPath.id, 'pass');
    assert.match(items.get(ids.a).description, /completed · objective 0\.0123/);
    assert.equal(items.get(ids.b).iconPath.id, 'error');
    assert.equal(items.get(ids.c).iconPath.id, 'sync~spin');
    assert.equal(items.get(ids.c).description, 'running 3/10');
    assert.equal(items.get(ids.c).contextValue, 'proxlab.run.live');
    assert.equal(items.get(ids.d).iconPath.id, 'warning', 'a dead running run shows as interrupted');
    assert.equal(items.get(ids.a).contextValue, 'proxlab.run.done');
    assert.deepEqual(items.get(ids.a).command.arguments, [ids.a]);
    const group = tree.getTreeItem(groups.find((g) => (g as any).experiment === 'cbo') as RunsNode);
    assert.equal(group.description, '2 runs');
    tree.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('groupRuns keeps newest-first order; runIdOf reads tree nodes, records and ids', () => {
  const mk = (id: string, experiment: string) => ({ id, experiment }) as any;
  const g = groupRuns([mk('3', 'x'), mk('2', 'y'), mk('1', 'x')]);
  assert.deepEqual(g.map((x) => [x.experiment, x.runs.map((r) => r.id)]), [['x', ['3', '1']], ['y', ['2']]]);
  assert.equal(runIdOf('abc'), 'abc');
  assert.equal(runIdOf({ kind: 'run', run: { id: 'r1' } }), 'r1');
  assert.equal(runIdOf({ id: 'r2' }), 'r2');
  assert.equal(runIdOf({ kind: 'experiment' }), undefined);
  assert.equal(runIdOf(undefined), undefined);
});

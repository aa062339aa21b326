// Pure helpers of the extension: panel HTML/CSP, runs folder and settings rules, display
// formatting, the schema-driven form's field parsing, model folder discovery, claim report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { describeFields } from '../../src/lab/runs/config';
import { cspFor, makeNonce, panelHtml } from '../../src/extension/html';
import { deviceOf, resolveRunsDir, threadsOf } from '../../src/extension/settings';
import { formatEta, headline, progressMessage, statusIcon } from '../../src/extension/format';
import { expectedText, formRows, parseFieldInput } from '../../src/extension/form';
import { findModelFolders, findTrainedModels } from '../../src/extension/models';
import { claimsMarkdown } from '../../src/extension/claims-report';

test('panel HTML: nonce-only scripts, no inline or eval sources, escaped attributes', () => {
  const a = makeNonce();
  const b = makeNonce();
  assert.notEqual(a, b);
  assert.match(a, /^[A-Za-z0-9]{32}$/);
  const csp = cspFor('https://x.vscode-cdn.net', a);
  assert.match(csp, /^default-src 'none'/);
  assert.match(csp, new RegExp(`script-src 'nonce-${a}'`));
  assert.doesNotMatch(csp, /unsafe/);
  const html = panelHtml({ cspSource: 'https://x', nonce: a, scriptUri: 'https://x/main.js?a="b"', styleUri: 'https://x/main.css', title: '<t>' });
  assert.match(html, /src="https:\/\/x\/main\.js\?a=&quot;b&quot;"/);
  assert.match(html, /<title>&lt;t&gt;<\/title>/);
  assert.equal((html.match(/<script/g) ?? []).length, 1);
});

test('runs folder: workspace when trusted, global storage otherwise; settings parsing', () => {
  const base = { setting: '', workspaceFolder: '/ws', globalStorage: '/gs', trusted: true, home: '/home/u' };
  assert.equal(resolveRunsDir(base), '/ws/.proxlab/runs');
  assert.equal(resolveRunsDir({ ...base, trusted: false }), '/gs/runs');
  assert.equal(resolveRunsDir({ ...base, workspaceFolder: undefined }), '/gs/runs');
  assert.equal(resolveRunsDir({ ...base, setting: 'out/runs' }), '/ws/out/runs');
  assert.equal(resolveRunsDir({ ...base, setting: 'out/runs', trusted: false }), '/gs/runs');
  assert.equal(resolveRunsDir({ ...base, setting: '/abs/runs', trusted: false }), '/abs/runs');
  assert.equal(resolveRunsDir({ ...base, setting: '~/runs' }), '/home/u/runs');
  assert.equal(deviceOf('cuda'), 'cuda');
  assert.equal(deviceOf('tpu'), 'cpu');
  assert.equal(threadsOf(0, 16), 8);
  assert.equal(threadsOf(3, 16), 3);
  assert.equal(threadsOf(-1, 2), 2);
  assert.equal(threadsOf(1.5, 1), 1);
});

test('progress line, ETA, status icons and headline', () => {
  assert.equal(formatEta(5.2), '6 s');
  assert.equal(formatEta(125), '2 min 5 s');
  assert.equal(formatEta(7260), '2 h 1 min');
  assert.equal(formatEta(299.7), '5 min 0 s', 'no "4 min 60 s"');
  assert.equal(formatEta(7199.9), '2 h 0 min');
  assert.equal(formatEta(undefined), '');
  assert.equal(progressMessage({ step: 40, total: 200, metric: 'objective', value: 0.012345678, etaS: 12 }), 'step 40/200 (20%) · objective 0.012346 · ETA 12 s');
  assert.equal(progressMessage({ step: 1, total: 0 }), 'step 1/0');
  assert.equal(statusIcon('running').icon, 'sync~spin');
  assert.equal(statusIcon('failed').icon, 'error');
  assert.equal(headline({ 'cbo/objective': 0.5, other: 2 }, 'objective'), 'cbo/objective 0.5');
  assert.equal(headline({ note: 'x', n: 3 }, undefined), 'n 3');
  assert.equal(headline(undefined, 'x'), '');
});

test('form: fields from a zod schema, inline validation of each field', () => {
  const schema = z
    .object({
      particles: z.number().int().min(2).max(1000).default(100).describe('number of particles'),
      sigma: z.number().gt(0).default(0.8).describe('noise'),
      objective: z.enum(['sphere', 'rastrigin']).default('rastrigin').describe('test function'),
      anneal: z.boolean().default(true).describe('anneal'),
      name: z.string().default('run').describe('label'),
    })
    .strict();
  const fields = describeFields(schema);
  const f = (n: string) => fields.find((x) => x.name === n)!;
  assert.equal(expectedText(f('particles')), 'an integer ≥ 2 and ≤ 1000');
  assert.equal(expectedText(f('sigma')), 'a number > 0');
  assert.deepEqual(parseFieldInput(f('particles'), ' 50 '), { ok: true, value: 50 });
  assert.match((parseFieldInput(f('particles'), '2.5') as { message: string }).message, /particles: 2\.5 is not an integer/);
  assert.match((parseFieldInput(f('particles'), '1') as { message: string }).message, /too small; expected an integer ≥ 2/);
  assert.match((parseFieldInput(f('particles'), 'abc') as { message: string }).message, /not a number/);
  assert.match((parseFieldInput(f('sigma'), '0') as { message: string }).message, /too small/);
  assert.deepEqual(parseFieldInput(f('objective'), 'sphere'), { ok: true, value: 'sphere' });
  assert.equal(parseFieldInput(f('objective'), 'ackley').ok, false);
  assert.deepEqual(parseFieldInput(f('anneal'), 'false'), { ok: true, value: false });
  assert.deepEqual(parseFieldInput(f('name'), ' a b '), { ok: true, value: ' a b ' });
  const rows = formRows(fields, { particles: 50 }, { sigma: 'sigma: bad' });
  assert.equal(rows[0].label, '$(edit) particles = 50');
  assert.match(rows[0].description, /default 100/);
  assert.equal(rows[1].label, '$(error) sigma = 0.8');
  assert.equal(rows[1].detail, '⚠ sigma: bad');
  assert.equal(rows[2].detail, 'test function');
});

test('model folders: bundled/local discovery and models saved by runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proxlab-models-'));
  try {
    const mk = (p: string, type = 'llama') => {
      mkdirSync(join(p, 'onnx'), { recursive: true });
      writeFileSync(join(p, 'config.json'), JSON.stringify({ model_type: type }));
    };
    mk(join(dir, 'models', 'tiny'));
    mk(join(dir, 'models', 'group', 'gpt'), 'gpt2');
    mkdirSync(join(dir, 'models', 'empty'));
    const found = findModelFolders(join(dir, 'models'), 'local', 2);
    assert.deepEqual(found.map((m) => [m.name, m.modelType]).sort(), [['gpt', 'gpt2'], ['tiny', 'llama']]);
    assert.deepEqual(findModelFolders(join(dir, 'models'), 'local', 1).map((m) => m.name), ['tiny']);
    mk(join(dir, 'runs', 'dpo', 'run1', 'artifacts', 'policy'));
    mkdirSync(join(dir, 'runs', 'cbo', 'run2', 'artifacts'), { recursive: true });
    const trained = findTrainedModels(join(dir, 'runs'));
    assert.deepEqual(trained.map((m) => [m.name, m.runId, m.source]), [['run1/policy', 'run1', 'trained']]);
    assert.deepEqual(findTrainedModels(join(dir, 'nope')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('claim report is a Markdown table with pass/fail and measured figures', () => {
  const md = claimsMarkdown([
    { id: 'cbo', pass: true, form: 'fast', summary: 'cbo 0.01 vs random 3.2', seconds: 1.25, measured: { cbo: 0.0123456, random: 3.2 } },
    { id: 'x', pass: false, form: 'fast', summary: 'a | b', seconds: 0.5, measured: {} },
  ]);
  assert.match(md, /1 passed, 1 failed/);
  assert.match(md, /\| cbo \| ✅ pass \| fast \| 1\.3 s \| cbo=0\.01235, random=3\.2 \| cbo 0\.01 vs random 3\.2 \|/);
  assert.match(md, /a \\\| b/);
});

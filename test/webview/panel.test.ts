// The run panel's front end in Chromium, outside VS Code: strict CSP on (zero violations), the
// ready handshake, a chart drawn from posted metrics (10^5 points per metric), incremental
// appends, smoothing/log/picker controls, samples table, malformed messages ignored and logged,
// state saved with setState, and the compare view.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { chromium, type Browser, type Page } from 'playwright-core';
import { browserMissing, buildMedia, CHROMIUM, CHROMIUM_ARGS, DARK_THEME, initScript, serve, syntheticBatch } from './harness';

const missing = browserMissing();
const required = !!process.env.PROXLAB_E2E_REQUIRED;
if (missing && required) throw new Error(`webview test required (PROXLAB_E2E_REQUIRED) but ${missing}`);
const skip = missing ? `skipped: ${missing}` : false;

const RESULTS = join(__dirname, '../../test-results');
let browser: Browser;
let server: Server;
let url: string;
let mediaDir: string;

const run = {
  id: '20261128-120000-cbo-ab12',
  experiment: 'cbo',
  title: 'Consensus-based optimization',
  task: 'rastrigin',
  status: 'running',
  createdAt: '2026-11-28T12:00:00.000Z',
  seed: 0,
  device: 'cpu',
  config: { particles: 100, iterations: 100000, lambda: 1, sigma: 0.8 },
  keyMetric: 'objective',
  lowerIsBetter: true,
};

before(async () => {
  if (skip) return;
  mkdirSync(RESULTS, { recursive: true });
  mediaDir = await buildMedia();
  ({ url, server } = await serve(mediaDir));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  server?.close();
  if (mediaDir) rmSync(mediaDir, { recursive: true, force: true });
});

async function openPage(savedState: unknown = null): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) errors.push(`csp: ${m.text()}`);
  });
  await page.addInitScript(initScript(DARK_THEME, savedState));
  await page.goto(url);
  await page.waitForFunction(() => (window as any).__posted.some((m: any) => m.type === 'ready'));
  return { page, errors };
}

const post = (page: Page, msg: unknown) => page.evaluate((m) => window.postMessage(m, '*'), msg);

test('run panel: CSP clean, chart drawn from 10^5 posted points, incremental appends, controls', { skip }, async () => {
  const { page, errors } = await openPage();
  const samples = Array.from({ length: 300 }, (_, i) => ({ step: i, prompt: `prompt number ${i}`, completion: `completion ${i} `.repeat(20), reward: Math.sin(i) }));
  // the page generates the 10^5 rows itself and times message -> drawn chart
  const initMs = await page.evaluate(
    async ({ run, samples }) => {
      const w = window as any;
      const t0 = performance.now();
      window.postMessage({ type: 'init', view: 'run', run, metrics: w.__synth(100_000), samples, artifacts: [{ name: 'final.npy', size: 2048 }] }, '*');
      while (!(w.__ink().length && w.__ink().every((n: number) => n > 2000))) await new Promise((r) => requestAnimationFrame(r));
      return performance.now() - t0;
    },
    { run, samples },
  );

  // default selection: metrics named like the key metric, overlaid in one chart (method beside baseline)
  const titles = await page.$$eval('.chart .u-title', (els) => els.map((e) => e.textContent));
  assert.deepEqual(titles, ['objective']);
  const legend = await page.$$eval('.chart .u-legend .u-label', (els) => els.map((e) => e.textContent));
  assert.ok(legend.includes('cbo/objective') && legend.includes('random_search/objective'), `legend: ${legend}`);
  await page.screenshot({ path: join(RESULTS, 'webview-run-panel.png') });

  // incremental appends: 20 batches of 1000 rows; the canvas changes and stays drawn
  const before = await page.evaluate(() => (document.querySelector('.chart canvas') as HTMLCanvasElement).toDataURL());
  const appendMs = await page.evaluate(async (runId) => {
    const w = window as any;
    const t0 = performance.now();
    for (let k = 0; k < 20; k++) {
      window.postMessage({ type: 'metrics', runId, batch: w.__synth(1000, 100_000 + k * 1000) }, '*');
      await new Promise((r) => requestAnimationFrame(r));
    }
    await new Promise((r) => requestAnimationFrame(r));
    return (performance.now() - t0) / 20;
  }, run.id);
  const afterAppend = await page.evaluate(() => (document.querySelector('.chart canvas') as HTMLCanvasElement).toDataURL());
  assert.notEqual(afterAppend, before, 'appending rows must redraw the chart');
  // hovering the right edge of the plot shows the last step in the legend
  const over = (await page.locator('.chart .u-over').first().boundingBox())!;
  await page.mouse.move(over.x + over.width - 1, over.y + over.height / 2);
  const legendText = await page.locator('.chart .u-legend').first().innerText();
  const lastStep = Number(/step\s*([\d,.]+)/.exec(legendText)?.[1]?.replace(/,/g, ''));
  assert.ok(lastStep >= 119_000, `the x axis should reach step 119999 after the appends, cursor shows ${lastStep} (legend: ${legendText})`);
  console.log(`webview: 2 x 10^5 points posted -> chart drawn in ${initMs.toFixed(0)} ms; append of 1000 rows until drawn (frame-bound, 60 Hz): ${appendMs.toFixed(1)} ms each`);

  // zoom: dragging across the middle of the plot narrows the x range; double-click resets it
  const stepAt = async (fraction: number) => {
    const box = (await page.locator('.chart .u-over').first().boundingBox())!;
    await page.mouse.move(box.x + Math.min(box.width - 1, box.width * fraction), box.y + box.height / 2);
    const text = await page.locator('.chart .u-legend').first().innerText();
    return Number(/step\s*([\d,.]+)/.exec(text)?.[1]?.replace(/,/g, ''));
  };
  const stepAtRightEdge = () => stepAt(1);
  await page.mouse.move(over.x + over.width * 0.25, over.y + over.height / 2);
  await page.mouse.down();
  await page.mouse.move(over.x + over.width * 0.5, over.y + over.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForTimeout(100);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  // the drag covered 25%..50% of 0..120000: the zoomed data must span the whole new x range
  const zoomedLeft = await stepAt(0);
  const zoomedRight = await stepAtRightEdge();
  assert.ok(Math.abs(zoomedLeft - 30_000) < 1_500, `left edge of the zoom shows step ${zoomedLeft}, expected about 30000`);
  assert.ok(Math.abs(zoomedRight - 60_000) < 1_500, `right edge of the zoom shows step ${zoomedRight}, expected about 60000`);
  await page.screenshot({ path: join(RESULTS, 'webview-zoomed.png') });
  await page.mouse.dblclick(over.x + over.width / 2, over.y + over.height / 2);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  assert.ok((await stepAtRightEdge()) >= 119_000, 'double-click resets the zoom');

  // smoothing slider, log scale, picker
  await page.$eval('input.smoothing', (el) => {
    (el as HTMLInputElement).value = '0.9';
    el.dispatchEvent(new Event('input'));
  });
  await page.check('input.log-scale');
  await page.check('input[data-metric="gap"]');
  await page.waitForFunction(() => (window as any).__ink().length === 2 && (window as any).__ink().every((n: number) => n > 1000));
  const labels = await page.$$eval('.chart .u-legend .u-label', (els) => els.map((e) => e.textContent));
  assert.ok(labels.includes('cbo/objective (raw)'), 'smoothing shows the raw line under the smoothed one');
  const state = await page.evaluate(() => (window as any).__state);
  assert.equal(state.smoothing, 0.9);
  assert.equal(state.logScale, true);
  assert.deepEqual(state.selected, ['cbo/objective', 'gap', 'random_search/objective']);
  assert.deepEqual(state.runIds, [run.id]);
  await page.screenshot({ path: join(RESULTS, 'webview-run-panel-smoothed.png') });

  // samples: filter and expand
  await page.click('button[data-tab="samples"]');
  assert.equal(await page.locator('tr.sample-row').count(), 200, 'first page of samples');
  await page.fill('input.sample-filter', 'prompt number 42');
  assert.equal(await page.locator('tr.sample-row').count(), 1);
  await page.click('tr.sample-row');
  const detail = await page.textContent('.sample-detail');
  assert.match(detail ?? '', /completion 42 completion 42/);
  await page.screenshot({ path: join(RESULTS, 'webview-samples.png') });

  // config tab, status update, artifacts
  await post(page, { type: 'run', run: { ...run, status: 'completed', endedAt: '2026-11-28T12:01:00.000Z', summary: { 'cbo/objective': 0.01 } } });
  await page.click('button[data-tab="config"]');
  assert.match((await page.textContent('table.summary')) ?? '', /cbo\/objective/);
  assert.equal(await page.getAttribute('.status', 'data-status'), 'completed');
  await page.click('button[data-tab="artifacts"]');
  await page.click('a[data-artifact="final.npy"]');
  const posted = await page.evaluate(() => (window as any).__posted);
  assert.ok(posted.some((m: any) => m.type === 'openArtifact' && m.name === 'final.npy' && m.runId === run.id));

  // malformed messages are ignored and logged back
  await post(page, { type: 'metrics', runId: run.id, batch: { step: [1, 2], time: [0] } });
  await post(page, { type: 'nonsense' });
  await post(page, 'not an object');
  await page.waitForFunction(() => (window as any).__posted.filter((m: any) => m.type === 'log' && m.level === 'warn').length >= 3);

  const csp = await page.evaluate(() => (window as any).__cspViolations);
  assert.deepEqual(csp, [], 'no CSP violations');
  assert.deepEqual(errors, [], 'no page errors');
  await page.close();
});

test('run panel: restores its saved state on reload', { skip }, async () => {
  const saved = { view: 'run', runIds: [run.id], selected: ['gap'], smoothing: 0.5, logScale: false, overlay: true, tab: 'charts' };
  const { page, errors } = await openPage(saved);
  await post(page, { type: 'init', view: 'run', run, metrics: syntheticBatch(5000), samples: [], artifacts: [] });
  await page.waitForFunction(() => (window as any).__ink().length === 1 && (window as any).__ink()[0] > 500);
  assert.deepEqual(await page.$$eval('.chart .u-title', (els) => els.map((e) => e.textContent)), ['gap']);
  assert.equal(await page.$eval('input.smoothing', (el) => (el as HTMLInputElement).value), '0.5');
  assert.deepEqual(errors, []);
  await page.close();
});

test('compare view overlays runs with a legend', { skip }, async () => {
  const { page, errors } = await openPage();
  const runB = { ...run, id: '20261128-130000-cbo-cd34', config: { ...run.config, sigma: 0.3 }, status: 'completed' };
  const b2 = syntheticBatch(20_000);
  b2.values['cbo/objective'] = b2.values['cbo/objective'].map((v) => (v as number) * 0.5);
  await post(page, { type: 'init', view: 'compare', runs: [{ run, metrics: syntheticBatch(20_000) }, { run: runB, metrics: b2 }] });
  await page.waitForFunction(() => (window as any).__ink().length >= 1 && (window as any).__ink().every((n: number) => n > 1000));
  const rows = await page.$$eval('.legend-table tbody tr', (els) => els.map((e) => e.getAttribute('data-run')));
  assert.deepEqual(rows, [run.id, runB.id]);
  const head = await page.$$eval('.legend-table thead th', (els) => els.map((e) => e.textContent));
  assert.ok(head.includes('sigma'), 'the legend shows the config keys that differ');
  const labels = await page.$$eval('.chart .u-legend .u-label', (els) => els.map((e) => e.textContent));
  assert.ok(labels.includes('cbo ab12') && labels.includes('cbo cd34'), `legend labels: ${labels}`);
  await page.screenshot({ path: join(RESULTS, 'webview-compare.png') });
  assert.deepEqual(await page.evaluate(() => (window as any).__cspViolations), []);
  assert.deepEqual(errors, []);
  await page.close();
});

// End to end in a real VS Code (code-server 4.100.3 = VS Code 1.100, Playwright + chromium):
// install the built extension into a fresh --extensions-dir, open a folder, run "Prox Lab: New
// Experiment" through the command palette for a short `cbo` run (editing a field in the form,
// with its inline validation), wait for completion, check the run folder on disk and the Runs
// tree, check the run panel's chart canvas is drawn (the webview is an iframe in an iframe),
// and read our activation time. Screenshots go to test-results/e2e-*.png.
// Skips with a message when code-server is not installed, unless PROXLAB_E2E_REQUIRED is set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Frame, type Page } from 'playwright-core';
import { build, codeServerMissing, findFiles, installExtension, ROOT, startCodeServer, type CodeServer } from './code-server';

const CHROMIUM = process.env.PROXLAB_CHROMIUM ?? '/usr/bin/chromium';
const required = !!process.env.PROXLAB_E2E_REQUIRED;
const missing = codeServerMissing() ?? (existsSync(CHROMIUM) ? undefined : `no chromium at ${CHROMIUM}`);
if (missing && required) throw new Error(`e2e required (PROXLAB_E2E_REQUIRED) but ${missing}`);
if (missing) console.log(`e2e skipped: ${missing}`);
const RESULTS = join(ROOT, 'test-results');

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(RESULTS, `e2e-${name}.png`) });
}

/** Runs a command through the command palette (F1), by its title. */
async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

/** Waits for a quick pick whose title or rows contain `text`, types a filter, and accepts the row. */
async function pick(page: Page, rowText: string, filter = rowText): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible' });
  await input.fill(filter);
  const row = page.locator('.quick-input-list .monaco-list-row.focused', { hasText: rowText });
  await row.first().waitFor({ timeout: 30_000 });
  await page.keyboard.press('Enter');
}

/** The frame inside the run panel's webview (iframe.webview > iframe#active-frame) with a chart. */
async function webviewFrame(page: Page, timeoutMs = 60_000): Promise<Frame> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const f of page.frames()) {
      try {
        if (await f.$('body[data-ready="true"] .chart canvas')) return f;
      } catch {
        // frame navigating
      }
    }
    await page.waitForTimeout(250);
  }
  throw new Error('no run panel webview with a chart appeared');
}

const inkOf = () =>
  [...document.querySelectorAll('.chart canvas')].map((c) => {
    const canvas = c as HTMLCanvasElement;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let ink = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
    return ink;
  });

test('New Experiment runs cbo in a real VS Code, shows it in the Runs tree and draws its chart', { skip: missing ? `code-server e2e skipped: ${missing}` : false, timeout: 300_000 }, async () => {
  mkdirSync(RESULTS, { recursive: true });
  build();
  const base = mkdtempSync(join(tmpdir(), 'proxlab-e2e-'));
  const extensionsDir = join(base, 'extensions');
  const userDataDir = join(base, 'user-data');
  const folder = join(base, 'workspace');
  mkdirSync(extensionsDir);
  mkdirSync(folder);
  installExtension(extensionsDir);
  let cs: CodeServer | undefined;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  try {
    cs = await startCodeServer({ userDataDir, extensionsDir, folder });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${cs.url}?folder=${encodeURIComponent(folder)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    await page.locator('.activitybar .action-item', { has: page.locator('[aria-label="Prox Lab"]') }).first().waitFor({ timeout: 60_000 });
    await shot(page, '01-workbench');

    // New Experiment: method -> task -> form (edit `steps`, see inline validation) -> Start run
    await runCommand(page, 'Prox Lab: New Experiment');
    await pick(page, 'cbo');
    await pick(page, 'rastrigin', '');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Start run' }).waitFor({ timeout: 30_000 });
    await shot(page, '02-form');
    await pick(page, 'steps = ', 'steps');
    await input.fill('0');
    const message = page.locator('.quick-input-message');
    await message.filter({ hasText: 'too small' }).waitFor({ timeout: 10_000 });
    await shot(page, '03-inline-validation');
    await input.fill('300');
    await message.filter({ hasText: 'too small' }).waitFor({ state: 'hidden', timeout: 10_000 });
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'steps = 300' }).waitFor({ timeout: 10_000 });
    await pick(page, 'Start run', '');

    // the run folder on disk
    const runsRoot = join(folder, '.proxlab', 'runs', 'cbo');
    let runJson: any;
    const end = Date.now() + 120_000;
    while (Date.now() < end) {
      const ids = existsSync(runsRoot) ? readdirSync(runsRoot) : [];
      if (ids.length === 1) {
        try {
          runJson = JSON.parse(readFileSync(join(runsRoot, ids[0], 'run.json'), 'utf8'));
        } catch {
          runJson = undefined;
        }
        if (runJson && runJson.status !== 'running') break;
      }
      await page.waitForTimeout(500);
    }
    assert.ok(runJson, `no run.json under ${runsRoot}`);
    assert.equal(runJson.status, 'completed', `run ended ${runJson.status}: ${runJson.error ?? ''}`);
    assert.equal(runJson.experiment, 'cbo');
    assert.equal(runJson.task, 'rastrigin');
    assert.equal(runJson.config.steps, 300, 'the edited form value reached the run');
    const runDir = join(runsRoot, runJson.id);
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    assert.ok(metrics.length > 10, `metrics.jsonl has ${metrics.length} rows`);

    // the run panel opened with the run: its chart canvas is drawn
    const frame = await webviewFrame(page);
    await frame.waitForFunction(() => document.querySelector('.status')?.getAttribute('data-status') === 'completed', undefined, { timeout: 30_000 });
    await frame.waitForFunction(
      () =>
        [...document.querySelectorAll('.chart canvas')].some((c) => {
          const canvas = c as HTMLCanvasElement;
          const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
          let ink = 0;
          for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
          return ink > 2000;
        }),
      undefined,
      { timeout: 30_000 },
    );
    const ink = await frame.evaluate(inkOf);
    assert.ok(ink.some((n) => n > 2000), `chart canvas drawn (non-background pixels: ${ink})`);
    const cspErrors: string[] = [];
    page.on('console', (m) => /Content Security Policy/i.test(m.text()) && cspErrors.push(m.text()));

    // the Runs tree shows the run under its experiment
    await page.locator('.activitybar .action-item a[aria-label="Prox Lab"], .activitybar .action-item[aria-label="Prox Lab"]').first().click();
    const tree = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Runs' }) });
    await tree.locator('.monaco-list-row', { hasText: 'cbo' }).first().waitFor({ timeout: 30_000 });
    const runRow = tree.locator('.monaco-list-row', { hasText: 'completed' });
    await runRow.first().waitFor({ timeout: 30_000 });
    await shot(page, '04-run-panel-and-tree');

    // clicking the run in the tree reveals its panel; the chart is still drawn
    await runRow.first().click();
    const again = await webviewFrame(page);
    assert.ok((await again.evaluate(inkOf)).some((n) => n > 2000));
    assert.deepEqual(cspErrors, [], 'no CSP errors in the webview');

    // the Methods tree lists the 41 papers with their status
    await page.locator('.pane-header', { hasText: 'Methods' }).click();
    const methods = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Methods' }) });
    const cboPaper = methods.locator('.monaco-list-row', { hasText: 'Gradient is all you need?' });
    await methods.locator('.monaco-list-row').first().waitFor({ timeout: 30_000 });
    await page.locator('.pane-header', { hasText: 'Runs' }).click(); // collapse Runs to make room
    for (let i = 0; i < 40 && !(await cboPaper.count()); i++) {
      await methods.locator('.monaco-list').first().hover();
      await page.mouse.wheel(0, 200);
      await page.waitForTimeout(100);
    }
    await cboPaper.first().waitFor({ timeout: 10_000 });
    assert.match((await cboPaper.first().textContent()) ?? '', /runs|claim/);
    await shot(page, '05-methods-tree');
    await page.locator('.pane-header', { hasText: 'Runs' }).click(); // expand Runs again

    // Stop Run: a long run is started, then stopped from the command palette
    await runCommand(page, 'Prox Lab: New Experiment');
    await pick(page, 'cbo');
    await pick(page, 'rastrigin', '');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Start run' }).waitFor({ timeout: 30_000 });
    await pick(page, 'steps = ', 'steps');
    await input.fill('100000');
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'steps = 100000' }).waitFor({ timeout: 10_000 });
    await pick(page, 'Start run', '');
    const runningRow = tree.locator('.monaco-list-row', { hasText: 'running' });
    await runningRow.first().waitFor({ timeout: 30_000 });
    await shot(page, '06-live-run');
    await runCommand(page, 'Prox Lab: Stop Run');
    await pick(page, 'cbo', '');
    const stopEnd = Date.now() + 30_000;
    let stopped: any;
    while (Date.now() < stopEnd) {
      const ids = readdirSync(runsRoot).filter((id) => id !== runJson.id);
      if (ids.length === 1) {
        try {
          stopped = JSON.parse(readFileSync(join(runsRoot, ids[0], 'run.json'), 'utf8'));
        } catch {
          stopped = undefined;
        }
        if (stopped && stopped.status !== 'running') break;
      }
      await page.waitForTimeout(250);
    }
    assert.equal(stopped?.status, 'cancelled', `the stopped run is ${stopped?.status}`);
    await tree.locator('.monaco-list-row', { hasText: 'cancelled' }).first().waitFor({ timeout: 30_000 });

    // activation time of our code, written by the extension beside its log
    const files = findFiles(userDataDir, 'activation.json');
    assert.equal(files.length, 1, 'activation.json written by the extension');
    const timing = JSON.parse(readFileSync(files[0], 'utf8')) as { moduleMs: number; activateMs: number; totalMs: number; hostWaitMs: number };
    // VS Code's own figure (code loading + activate call), from Developer: Show Running Extensions
    await runCommand(page, 'Developer: Show Running Extensions');
    const row = page.locator('.runtime-extensions-editor .monaco-list-row', { hasText: 'Prox Lab' });
    await row.first().waitFor({ timeout: 30_000 });
    const vscodeFigure = (await row.first().locator('.activation-time').textContent().catch(() => '')) ?? '';
    await shot(page, '07-running-extensions');
    console.log(
      `e2e: activation of our code ${timing.totalMs.toFixed(1)} ms (module evaluation ${timing.moduleMs.toFixed(1)} ms + activate() ${timing.activateMs.toFixed(1)} ms; ` +
        `VS Code context setup in between ${timing.hostWaitMs.toFixed(0)} ms); VS Code reports "${vscodeFigure.trim()}"; run ${runJson.id} completed with ${metrics.length} metric rows`,
    );
    assert.ok(timing.totalMs <= 100, `activation took ${JSON.stringify(timing)} ms (target <= 100 ms)`);
  } catch (e) {
    const pages = browser.contexts().flatMap((c) => c.pages());
    if (pages[0]) await shot(pages[0], 'failure').catch(() => undefined);
    if (cs) console.log(`code-server output (tail):\n${cs.output().slice(-3000)}`);
    throw e;
  } finally {
    await browser.close();
    await cs?.stop();
    // code-server's extension host can outlive the main process for a moment: retry on ENOTEMPTY / EBUSY
    rmSync(base, { recursive: true, force: true, maxRetries: 10, retryDelay: 300 });
  }
});

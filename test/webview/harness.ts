// Serves the webview bundle (media/main.ts built by esbuild) in a page with the same HTML and
// CSP as the extension's panel, a fake acquireVsCodeApi and VS Code dark-theme variables, and
// drives it with Playwright + Debian's chromium. Records posted messages, state, CSP violations.
import * as esbuild from 'esbuild';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { panelHtml } from '../../src/extension/html';

export const CHROMIUM = process.env.PROXLAB_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  if (!existsSync(CHROMIUM)) return `no chromium at ${CHROMIUM} (apt-get install chromium)`;
  return undefined;
}

export async function buildMedia(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'proxlab-media-'));
  await esbuild.build({
    entryPoints: [join(__dirname, '../../media/main.ts')],
    outfile: join(out, 'main.js'),
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    loader: { '.css': 'css' },
    logLevel: 'error',
  });
  return out;
}

export const DARK_THEME: Record<string, string> = {
  '--vscode-foreground': '#cccccc',
  '--vscode-editor-background': '#1e1e1e',
  '--vscode-font-family': 'sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-descriptionForeground': '#9d9d9d',
  '--vscode-charts-foreground': '#cccccc',
  '--vscode-charts-lines': 'rgba(204,204,204,0.25)',
  '--vscode-charts-blue': '#3794ff',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-green': '#89d185',
  '--vscode-charts-red': '#f14c4c',
  '--vscode-charts-purple': '#b180d7',
  '--vscode-charts-yellow': '#cca700',
  '--vscode-focusBorder': '#007fd4',
  '--vscode-button-secondaryBackground': '#3a3d41',
  '--vscode-button-secondaryForeground': '#ffffff',
  '--vscode-input-background': '#3c3c3c',
  '--vscode-input-foreground': '#cccccc',
  '--vscode-panel-border': '#80808059',
};

/** Serves index.html (panel HTML with CSP), main.js and main.css from `mediaDir`. */
export async function serve(mediaDir: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(panelHtml({ cspSource: origin, nonce: 'bm9uY2Vub25jZW5vbmNlbm9uY2Vub25jZQ', scriptUri: `${origin}/main.js`, styleUri: `${origin}/main.css`, title: 'test' }));
      return;
    }
    const file = path === '/main.js' ? 'main.js' : path === '/main.css' ? 'main.css' : undefined;
    if (!file) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/css' });
    res.end(readFileSync(join(mediaDir, file)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

/** Runs in the page before its scripts: fake VS Code API, theme variables, CSP violation log. */
export function initScript(theme: Record<string, string>, savedState: unknown): string {
  return `
    window.__synth = ${SYNTH_SOURCE};
    window.__posted = [];
    window.__cspViolations = [];
    window.__state = ${JSON.stringify(savedState ?? null)};
    // non-background pixels per chart canvas (a drawn chart has many)
    window.__ink = () => [...document.querySelectorAll('.chart canvas')].map((c) => {
      const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      let ink = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
      return ink;
    });
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
      getState: () => window.__state,
      setState: (s) => { window.__state = JSON.parse(JSON.stringify(s)); },
    });
    const vars = ${JSON.stringify(theme)};
    const applyTheme = () => {
      for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
      document.body?.classList.add('vscode-dark');
    };
    document.addEventListener('DOMContentLoaded', applyTheme);
    if (document.documentElement) applyTheme();
  `;
}

/**
 * Synthetic metrics like a solver beside its baseline, n rows from step `start`: plain JS source,
 * so the page can generate 10^5 rows itself (window.__synth) instead of receiving them over CDP.
 */
const SYNTH_SOURCE = `function synth(n, start) {
  start = start || 0;
  const step = [], time = [], ours = [], base = [], gap = [];
  let s = 12345 + start;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  for (let i = start; i < start + n; i++) {
    step.push(i);
    time.push(i * 0.001);
    ours.push(10 * Math.exp(-i / 20000) + 0.3 * rand());
    base.push(10 * Math.exp(-i / 80000) + 0.3 * rand());
    gap.push(i % 10 === 0 ? Math.exp(-i / 30000) : null);
  }
  return { step, time, values: { 'cbo/objective': ours, 'random_search/objective': base, gap } };
}`;

type Batch = { step: number[]; time: number[]; values: Record<string, (number | null)[]> };
export const syntheticBatch = new Function(`return (${SYNTH_SOURCE})`)() as (n: number, start?: number) => Batch;


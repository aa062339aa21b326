// Webview entry: the ready handshake, message validation, state kept across reloads, and the
// dispatch to the run view or the compare view. Bundled by esbuild to dist/media/main.js.
import 'uplot/dist/uPlot.min.css';
import './main.css';
import { parseToWebview, type FromWebview, type PanelState, type ToWebview } from '../src/extension/protocol';
import { CompareView } from './compare-view';
import { h } from './dom';
import { RunView } from './run-view';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const root = document.getElementById('app') ?? document.body.appendChild(h('div', { attrs: { id: 'app' } }));

function initialState(): PanelState {
  const saved = vscode.getState() as Partial<PanelState> | undefined;
  if (saved && (saved.view === 'run' || saved.view === 'compare') && Array.isArray(saved.runIds)) return saved as PanelState;
  return { view: 'run', runIds: [] };
}
const state = initialState();
const save = () => vscode.setState(state);
const post = (m: FromWebview) => vscode.postMessage(m);

let runView: RunView | undefined;
let compareView: CompareView | undefined;

function handle(m: ToWebview): void {
  switch (m.type) {
    case 'init':
      if (m.view === 'run') {
        state.view = 'run';
        state.runIds = [m.run.id];
        compareView = undefined;
        runView = new RunView(root, m, state, save, post);
      } else {
        state.view = 'compare';
        state.runIds = m.runs.map((r) => r.run.id);
        runView = undefined;
        compareView = new CompareView(root, m, state, save);
      }
      save();
      document.body.dataset.ready = 'true';
      break;
    case 'metrics':
      if (runView?.runId === m.runId) runView.onMetrics(m.batch);
      else if (compareView?.hasRun(m.runId)) compareView.onMetrics(m.runId, m.batch);
      break;
    case 'samples':
      if (runView?.runId === m.runId) runView.onSamples(m.rows);
      break;
    case 'run':
      if (runView?.runId === m.run.id) runView.onRun(m.run);
      else if (compareView?.hasRun(m.run.id)) compareView.onRun(m.run);
      break;
    case 'artifacts':
      if (runView?.runId === m.runId) runView.onArtifacts(m.items);
      break;
  }
}

window.addEventListener('message', (event: MessageEvent) => {
  const m = parseToWebview(event.data);
  if (typeof m === 'string') {
    console.warn(`Prox Lab: ignored a malformed message: ${m}`);
    post({ type: 'log', level: 'warn', message: `ignored a malformed message: ${m}` });
    return;
  }
  try {
    handle(m);
  } catch (err) {
    const message = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
    console.error(message);
    post({ type: 'log', level: 'error', message: `webview error while handling '${m.type}': ${message}` });
  }
});

document.addEventListener('securitypolicyviolation', (e) => {
  post({ type: 'log', level: 'error', message: `CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}` });
});

root.append(h('p', { class: 'muted', text: 'Loading run…' }));
post({ type: 'ready' });

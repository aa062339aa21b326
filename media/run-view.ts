// The run panel: header with status and actions, then tabs Charts | Samples | Config | Artifacts.
import type { ArtifactInfo, FromWebview, MetricsBatch, PanelAction, PanelState, RunInfo } from '../src/extension/protocol';
import { ChartsArea } from './charts-area';
import { clear, formatBytes, h, show } from './dom';

const TABS = ['charts', 'samples', 'config', 'artifacts'] as const;
type Tab = (typeof TABS)[number];
const SAMPLE_PAGE = 200;
const PREFERRED_COLUMNS = ['step', 'iteration', 'prompt', 'completion', 'chosen', 'rejected', 'reward', 'rewards', 'score'];

function duration(run: RunInfo): string {
  const start = Date.parse(run.startedAt ?? run.createdAt);
  const end = run.endedAt ? Date.parse(run.endedAt) : Date.now();
  if (!Number.isFinite(start) || !Number.isFinite(end)) return '';
  const s = Math.max(0, (end - start) / 1000);
  return s < 60 ? `${s.toFixed(1)} s` : s < 3600 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${(s / 3600).toFixed(1)} h`;
}

export function kvTable(obj: Record<string, unknown>, cls: string): HTMLElement {
  const entries = Object.entries(obj);
  if (!entries.length) return h('p', { class: 'muted', text: 'None.' });
  return h(
    'table',
    { class: `kv ${cls}` },
    h('tbody', {}, ...entries.map(([k, v]) => h('tr', {}, h('th', { text: k }), h('td', { text: show(v, 400) })))),
  );
}

export class RunView {
  private run: RunInfo;
  private readonly charts: ChartsArea;
  private readonly header = h('header', { class: 'run-header' });
  private readonly tabBar = h('nav', { class: 'tabs', attrs: { role: 'tablist' } });
  private readonly pages = new Map<Tab, HTMLElement>();
  private samples: Record<string, unknown>[] = [];
  private samplesShown = SAMPLE_PAGE;
  private readonly expanded = new Set<number>();
  private artifacts: ArtifactInfo[] = [];

  constructor(
    root: HTMLElement,
    init: { run: RunInfo; metrics: MetricsBatch; samples: Record<string, unknown>[]; artifacts: ArtifactInfo[] },
    private readonly state: PanelState,
    private readonly save: () => void,
    private readonly post: (m: FromWebview) => void,
  ) {
    this.run = init.run;
    clear(root);
    root.append(this.header, this.tabBar);
    for (const t of TABS) {
      const page = h('section', { class: `page page-${t}`, attrs: { role: 'tabpanel' } });
      this.pages.set(t, page);
      root.append(page);
    }
    this.charts = new ChartsArea(this.pages.get('charts')!, 'run', this.state, this.save, this.run.keyMetric, this.run.experiment);
    this.charts.addSource(this.run.id, this.run.id);
    this.charts.rebuildCharts();
    this.charts.append(this.run.id, init.metrics);
    this.samples = init.samples;
    this.artifacts = init.artifacts;
    this.renderHeader();
    this.renderTabs();
    this.renderSamples();
    this.renderConfig();
    this.renderArtifacts();
    this.selectTab((TABS as readonly string[]).includes(this.state.tab ?? '') ? (this.state.tab as Tab) : 'charts');
  }

  get runId(): string {
    return this.run.id;
  }

  onMetrics(batch: MetricsBatch): void {
    this.charts.append(this.run.id, batch);
  }

  onSamples(rows: Record<string, unknown>[]): void {
    this.samples.push(...rows);
    this.renderTabs();
    this.renderSamples();
  }

  onRun(run: RunInfo): void {
    this.run = run;
    this.renderHeader();
    this.renderConfig();
  }

  onArtifacts(items: ArtifactInfo[]): void {
    this.artifacts = items;
    this.renderTabs();
    this.renderArtifacts();
  }

  private action(action: PanelAction): HTMLElement {
    const labels: Record<PanelAction, string> = { stop: 'Stop', export: 'Export…', reveal: 'Reveal Folder', compare: 'Compare…', rerun: 'Run Again' };
    return h('button', { text: labels[action], attrs: { 'data-action': action }, on: { click: () => this.post({ type: 'action', action, runId: this.run.id }) } });
  }

  private renderHeader(): void {
    const r = this.run;
    clear(this.header);
    const progress = r.progress && r.status === 'running' ? `${r.progress.step} / ${r.progress.total}` : '';
    const parts: HTMLElement[] = [
      h(
        'div',
        { class: 'title-row' },
        h('h1', { text: r.title ?? r.experiment }),
        h('span', { class: `status status-${r.status}`, text: r.status, attrs: { 'data-status': r.status } }),
        progress ? h('span', { class: 'muted', text: progress }) : null,
      ),
      h('div', { class: 'muted meta', text: [r.id, r.task && `task ${r.task}`, r.model && `model ${r.model}`, r.device, duration(r)].filter(Boolean).join(' · ') }),
      h('div', { class: 'actions' }, r.status === 'running' ? this.action('stop') : null, this.action('compare'), this.action('export'), this.action('reveal'), this.action('rerun')),
    ];
    if (r.error) parts.push(h('pre', { class: 'error', text: r.error }));
    this.header.append(...parts);
  }

  private renderTabs(): void {
    clear(this.tabBar);
    const names: Record<Tab, string> = {
      charts: 'Charts',
      samples: `Samples (${this.samples.length})`,
      config: 'Config & Summary',
      artifacts: `Artifacts (${this.artifacts.length})`,
    };
    for (const t of TABS) {
      const b = h('button', { text: names[t], class: 'tab', attrs: { role: 'tab', 'data-tab': t, 'aria-selected': String(this.state.tab === t) } });
      b.addEventListener('click', () => this.selectTab(t));
      this.tabBar.append(b);
    }
  }

  private selectTab(t: Tab): void {
    this.state.tab = t;
    this.save();
    for (const [name, page] of this.pages) page.hidden = name !== t;
    for (const b of this.tabBar.querySelectorAll('button')) b.setAttribute('aria-selected', String(b.dataset.tab === t));
    if (t === 'charts') this.charts.shown();
  }

  private sampleColumns(): string[] {
    const keys = new Set<string>();
    for (const row of this.samples.slice(0, 200)) for (const k of Object.keys(row)) keys.add(k);
    const preferred = PREFERRED_COLUMNS.filter((k) => keys.has(k));
    const rest = [...keys].filter((k) => !preferred.includes(k));
    return [...preferred, ...rest].slice(0, 6);
  }

  private renderSamples(): void {
    const page = this.pages.get('samples')!;
    const prevFilter = (page.querySelector('input.sample-filter') as HTMLInputElement | null)?.value ?? this.state.filter ?? '';
    clear(page);
    const filter = h('input', { class: 'sample-filter', attrs: { type: 'search', placeholder: 'Filter samples (text in any field)', 'aria-label': 'Filter samples' } });
    filter.value = prevFilter;
    filter.addEventListener('input', () => {
      this.state.filter = filter.value;
      this.save();
      this.samplesShown = SAMPLE_PAGE;
      this.renderSampleRows(page);
    });
    page.append(filter, h('div', { class: 'samples-body' }));
    this.renderSampleRows(page);
  }

  private renderSampleRows(page: HTMLElement): void {
    const body = page.querySelector('.samples-body') as HTMLElement;
    clear(body);
    if (!this.samples.length) {
      body.append(h('p', { class: 'muted', text: 'This run logged no samples.' }));
      return;
    }
    const q = (this.state.filter ?? '').toLowerCase();
    const matching: number[] = [];
    for (let i = 0; i < this.samples.length; i++) {
      if (!q || JSON.stringify(this.samples[i]).toLowerCase().includes(q)) matching.push(i);
    }
    const cols = this.sampleColumns();
    const tbody = h('tbody');
    for (const i of matching.slice(0, this.samplesShown)) {
      const row = this.samples[i];
      const tr = h('tr', { class: 'sample-row', attrs: { 'data-index': String(i), tabindex: '0' } }, ...cols.map((c) => h('td', { text: show(row[c], 80) })));
      const toggle = () => {
        if (this.expanded.has(i)) this.expanded.delete(i);
        else this.expanded.add(i);
        this.renderSampleRows(page);
      };
      tr.addEventListener('click', toggle);
      tr.addEventListener('keydown', (e) => {
        if ((e as KeyboardEvent).key === 'Enter') toggle();
      });
      tbody.append(tr);
      if (this.expanded.has(i)) {
        const detail = h(
          'div',
          { class: 'sample-detail' },
          ...Object.entries(row).map(([k, v]) =>
            h('div', { class: 'field' }, h('div', { class: 'field-name', text: k }), h('pre', { text: typeof v === 'string' ? v : JSON.stringify(v, null, 2) })),
          ),
        );
        tbody.append(h('tr', { class: 'sample-expanded' }, h('td', { attrs: { colspan: String(cols.length) } }, detail)));
      }
    }
    body.append(
      h('p', { class: 'muted', text: `${matching.length} of ${this.samples.length} samples${q ? ' match' : ''}. Click a row to expand it.` }),
      h('table', { class: 'samples' }, h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', { text: c })))), tbody),
    );
    if (matching.length > this.samplesShown) {
      body.append(
        h('button', {
          text: `Show ${Math.min(SAMPLE_PAGE, matching.length - this.samplesShown)} more`,
          on: {
            click: () => {
              this.samplesShown += SAMPLE_PAGE;
              this.renderSampleRows(page);
            },
          },
        }),
      );
    }
  }

  private renderConfig(): void {
    const page = this.pages.get('config')!;
    const r = this.run;
    clear(page);
    const meta: Record<string, unknown> = {
      experiment: r.experiment,
      task: r.task,
      model: r.model,
      seed: r.seed,
      device: r.device,
      threads: r.threads,
      created: r.createdAt,
      started: r.startedAt,
      ended: r.endedAt,
      duration: duration(r),
    };
    for (const k of Object.keys(meta)) if (meta[k] === undefined || meta[k] === '') delete meta[k];
    page.append(
      h('h2', { text: 'Summary' }),
      kvTable(r.summary ?? {}, 'summary'),
      h('h2', { text: 'Config' }),
      kvTable(r.config, 'config'),
      h('h2', { text: 'Run' }),
      kvTable(meta, 'meta'),
    );
  }

  private renderArtifacts(): void {
    const page = this.pages.get('artifacts')!;
    clear(page);
    if (!this.artifacts.length) {
      page.append(h('p', { class: 'muted', text: 'No artifacts yet.' }));
      return;
    }
    page.append(
      h(
        'ul',
        { class: 'artifacts' },
        ...this.artifacts.map((a) =>
          h(
            'li',
            {},
            h('a', { text: a.name, attrs: { href: '#', 'data-artifact': a.name }, on: { click: (e) => (e.preventDefault(), this.post({ type: 'openArtifact', runId: this.run.id, name: a.name })) } }),
            h('span', { class: 'muted', text: ' ' + formatBytes(a.size) }),
          ),
        ),
      ),
    );
  }
}

// The compare view: several runs overlaid, one chart per metric, a legend of runs with their
// colour, status, and the config values in which they differ.
import type { MetricsBatch, PanelState, RunInfo } from '../src/extension/protocol';
import { ChartsArea } from './charts-area';
import { clear, h, show } from './dom';

/** Config keys whose values are not the same in every run. */
export function differingKeys(runs: RunInfo[]): string[] {
  const keys = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.config)) keys.add(k);
  return [...keys].filter((k) => new Set(runs.map((r) => JSON.stringify(r.config[k]))).size > 1);
}

export class CompareView {
  private readonly charts: ChartsArea;
  private readonly legend = h('div', { class: 'legend' });
  private runs: RunInfo[];

  constructor(
    root: HTMLElement,
    init: { runs: { run: RunInfo; metrics: MetricsBatch }[] },
    private readonly state: PanelState,
    save: () => void,
  ) {
    this.runs = init.runs.map((r) => r.run);
    clear(root);
    root.append(h('header', { class: 'run-header' }, h('h1', { text: `Compare ${this.runs.length} runs` })), this.legend);
    const page = h('section', { class: 'page page-charts' });
    root.append(page);
    const keyMetric = this.runs.find((r) => r.keyMetric)?.keyMetric;
    this.charts = new ChartsArea(page, 'compare', this.state, save, keyMetric, this.runs[0]?.experiment);
    for (const r of this.runs) this.charts.addSource(r.id, `${r.experiment} ${r.id.split('-').pop()}`);
    this.charts.rebuildCharts();
    for (const r of init.runs) this.charts.append(r.run.id, r.metrics);
    this.renderLegend();
  }

  hasRun(id: string): boolean {
    return this.runs.some((r) => r.id === id);
  }

  onMetrics(runId: string, batch: MetricsBatch): void {
    this.charts.append(runId, batch);
  }

  onRun(run: RunInfo): void {
    this.runs = this.runs.map((r) => (r.id === run.id ? run : r));
    this.renderLegend();
  }

  private renderLegend(): void {
    clear(this.legend);
    const diff = differingKeys(this.runs);
    const rows = this.runs.map((r) => {
      const src = this.charts.addSource(r.id, '');
      return h(
        'tr',
        { attrs: { 'data-run': r.id } },
        h('td', {}, h('span', { class: 'swatch', attrs: { 'data-color': src.color } })),
        h('td', { text: src.label }),
        h('td', {}, h('span', { class: `status status-${r.status}`, text: r.status })),
        ...diff.map((k) => h('td', { text: show(r.config[k], 40) })),
      );
    });
    this.legend.append(
      h('table', { class: 'legend-table' }, h('thead', {}, h('tr', {}, h('th'), h('th', { text: 'run' }), h('th', { text: 'status' }), ...diff.map((k) => h('th', { text: k })))), h('tbody', {}, ...rows)),
    );
    // colours are set through CSSOM (allowed by the CSP), never through style attributes
    for (const el of this.legend.querySelectorAll<HTMLElement>('.swatch')) el.style.background = el.dataset.color ?? '';
  }
}

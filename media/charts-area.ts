// The charts part of a panel: a metric picker, a smoothing slider, a log/linear switch, and a
// grid of MetricCharts. Data arrives in column batches and is appended to Series; drawing is
// batched to one animation frame, so a fast run does not redraw on every message.
import type { MetricsBatch } from '../src/extension/protocol';
import { MetricChart, type ChartLine } from './chart';
import { clear, h } from './dom';
import { Series, defaultSelection, groupCharts } from './series';

export interface ChartsState {
  selected?: string[];
  smoothing?: number;
  logScale?: boolean;
  overlay?: boolean;
}

export interface Source {
  id: string;
  label: string;
  color: string;
  metrics: Map<string, Series>;
}

const FALLBACK_PALETTE = ['#3794ff', '#d18616', '#89d185', '#f14c4c', '#b180d7', '#cca700', '#4ec9b0', '#c586c0'];
const PALETTE_VARS = ['blue', 'orange', 'green', 'red', 'purple', 'yellow'];

/** Chart colours from the VS Code theme (--vscode-charts-*), then fixed extras. */
export function themePalette(): string[] {
  const css = getComputedStyle(document.body);
  const fromTheme = PALETTE_VARS.map((v, i) => css.getPropertyValue(`--vscode-charts-${v}`).trim() || FALLBACK_PALETTE[i]);
  return [...fromTheme, ...FALLBACK_PALETTE.slice(6)];
}

function themeColors(): { foreground: string; grid: string } {
  const css = getComputedStyle(document.body);
  return {
    foreground: css.getPropertyValue('--vscode-charts-foreground').trim() || css.getPropertyValue('--vscode-foreground').trim() || '#cccccc',
    grid: css.getPropertyValue('--vscode-charts-lines').trim() || 'rgba(128,128,128,0.25)',
  };
}

export class ChartsArea {
  readonly root: HTMLElement;
  private readonly sources = new Map<string, Source>();
  private charts: MetricChart[] = [];
  private readonly pickerList: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly countLabel: HTMLElement;
  private pickerFilter = '';
  private frame = 0;
  private knownNames = '';

  constructor(
    parent: HTMLElement,
    private readonly mode: 'run' | 'compare',
    private readonly state: ChartsState,
    private readonly onStateChange: () => void,
    private readonly keyMetric?: string,
    private readonly method?: string,
  ) {
    const smoothing = this.state.smoothing ?? 0;
    const smoothValue = h('span', { class: 'smooth-value', text: smoothing.toFixed(2) });
    const slider = h('input', {
      attrs: { type: 'range', min: '0', max: '0.99', step: '0.01', value: String(smoothing), 'aria-label': 'Smoothing' },
      class: 'smoothing',
    });
    slider.addEventListener('input', () => {
      this.state.smoothing = Number(slider.value);
      smoothValue.textContent = this.state.smoothing.toFixed(2);
      this.onStateChange();
      this.rebuildCharts();
    });
    const logBox = h('input', { attrs: { type: 'checkbox', 'aria-label': 'Log scale' }, class: 'log-scale' });
    logBox.checked = !!this.state.logScale;
    logBox.addEventListener('change', () => {
      this.state.logScale = logBox.checked;
      this.onStateChange();
      this.rebuildCharts();
    });
    const overlayBox = h('input', { attrs: { type: 'checkbox', 'aria-label': 'Overlay baselines' }, class: 'overlay' });
    overlayBox.checked = this.state.overlay ?? true;
    overlayBox.addEventListener('change', () => {
      this.state.overlay = overlayBox.checked;
      this.onStateChange();
      this.rebuildCharts();
    });
    const filter = h('input', { attrs: { type: 'search', placeholder: 'Filter metrics', 'aria-label': 'Filter metrics' }, class: 'metric-filter' });
    filter.addEventListener('input', () => {
      this.pickerFilter = filter.value.toLowerCase();
      this.rebuildPicker();
    });
    this.countLabel = h('span', { class: 'muted' });
    const toolbar = h(
      'div',
      { class: 'toolbar' },
      h('label', { title: 'Exponential moving average of each line (debiased, as in TensorBoard)' }, 'Smoothing ', slider, smoothValue),
      h('label', { title: 'Logarithmic y axis (non-positive values are hidden)' }, logBox, ' Log scale'),
      this.mode === 'run'
        ? h('label', { title: "One chart per metric name after '/': a method beside its baseline" }, overlayBox, ' Overlay baselines')
        : null,
      h('span', { class: 'muted hint', text: 'Drag on a chart to zoom, double-click to reset.' }),
    );
    this.pickerList = h('div', { class: 'picker-list' });
    this.grid = h('div', { class: 'chart-grid' });
    this.root = h(
      'div',
      { class: 'charts-area' },
      toolbar,
      h('div', { class: 'charts-body' }, h('div', { class: 'picker' }, filter, this.countLabel, this.pickerList), this.grid),
    );
    parent.append(this.root);
    window.addEventListener('resize', () => this.charts.forEach((c) => c.resize()));
    // VS Code swaps the body's theme class and --vscode-* variables on a theme change
    new MutationObserver(() => this.retheme()).observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });
  }

  addSource(id: string, label: string): Source {
    let s = this.sources.get(id);
    if (!s) {
      const palette = themePalette();
      s = { id, label, color: palette[this.sources.size % palette.length], metrics: new Map() };
      this.sources.set(id, s);
    }
    return s;
  }

  /** Appends a batch of rows to a source's series (null entries are rows without that metric). */
  append(id: string, batch: MetricsBatch): void {
    const src = this.sources.get(id);
    if (!src) return;
    let newSeries = false;
    for (const [name, col] of Object.entries(batch.values)) {
      let s = src.metrics.get(name);
      if (!s) {
        src.metrics.set(name, (s = new Series()));
        newSeries = true;
      }
      for (let i = 0; i < col.length; i++) {
        const v = col[i];
        if (v !== null) s.append(batch.step[i], v);
      }
    }
    const names = this.metricNames().join('\n');
    if (names !== this.knownNames) {
      this.knownNames = names;
      this.rebuildPicker();
      if (!this.state.selected) newSeries = true;
    }
    // a chart only holds the series that existed when it was built
    if (newSeries) this.rebuildCharts();
    else this.scheduleRedraw();
  }

  metricNames(): string[] {
    const all = new Set<string>();
    for (const s of this.sources.values()) for (const k of s.metrics.keys()) all.add(k);
    return [...all].sort();
  }

  selection(): string[] {
    const names = this.metricNames();
    if (this.state.selected) return this.state.selected.filter((n) => names.includes(n));
    return defaultSelection(names, this.keyMetric, this.mode === 'compare' ? 2 : 4, this.method);
  }

  private rebuildPicker(): void {
    clear(this.pickerList);
    const selected = new Set(this.selection());
    const names = this.metricNames();
    this.countLabel.textContent = `${selected.size} of ${names.length} metrics`;
    for (const name of names) {
      if (this.pickerFilter && !name.toLowerCase().includes(this.pickerFilter)) continue;
      const box = h('input', { attrs: { type: 'checkbox', 'data-metric': name } });
      box.checked = selected.has(name);
      box.addEventListener('change', () => {
        const sel = new Set(this.selection());
        if (box.checked) sel.add(name);
        else sel.delete(name);
        this.state.selected = names.filter((n) => sel.has(n));
        this.onStateChange();
        this.countLabel.textContent = `${sel.size} of ${names.length} metrics`;
        this.rebuildCharts();
      });
      this.pickerList.append(h('label', { class: 'picker-item', title: name }, box, ' ' + name));
    }
  }

  private linesFor(metrics: string[]): ChartLine[] {
    const palette = themePalette();
    const lines: ChartLine[] = [];
    if (this.mode === 'run') {
      const src = [...this.sources.values()][0];
      metrics.forEach((m, i) => {
        const s = src?.metrics.get(m);
        if (s) lines.push({ label: m, color: palette[i % palette.length], series: s });
      });
    } else {
      for (const src of this.sources.values()) {
        const s = src.metrics.get(metrics[0]);
        if (s) lines.push({ label: src.label, color: src.color, series: s });
      }
    }
    return lines;
  }

  rebuildCharts(): void {
    for (const c of this.charts) c.destroy();
    this.charts = [];
    clear(this.grid);
    const selected = this.selection();
    if (!selected.length) {
      this.grid.append(h('p', { class: 'muted', text: this.metricNames().length ? 'Pick metrics on the left.' : 'Waiting for metrics…' }));
      return;
    }
    const groups = this.mode === 'run' ? groupCharts(selected, this.state.overlay ?? true) : selected.map((m) => ({ title: m, metrics: [m] }));
    const opts = { smoothing: this.state.smoothing ?? 0, logScale: !!this.state.logScale, theme: themeColors() };
    for (const g of groups) {
      const lines = this.linesFor(g.metrics);
      if (lines.length) this.charts.push(new MetricChart(this.grid, g.title, lines, opts));
    }
    this.scheduleRedraw();
  }

  scheduleRedraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      for (const c of this.charts) c.redraw();
    });
  }

  private retheme(): void {
    const palette = themePalette();
    [...this.sources.values()].forEach((s, i) => (s.color = palette[i % palette.length]));
    this.rebuildCharts();
  }

  /** Call when the area becomes visible again (its width may have changed while hidden). */
  shown(): void {
    for (const c of this.charts) c.resize();
    this.scheduleRedraw();
  }
}

// One uPlot line chart of one or more series (a metric, a method beside its baseline, or several
// runs in the compare view). Draws decimated data, so 10^5 points per series stay smooth;
// zooming (drag on the plot) re-decimates inside the visible range; double-click resets.
import uPlot from 'uplot';
import { alignSeries, decimate, decimateShared, positiveOnly, sameX, type Series } from './series';
import { h } from './dom';

export interface ChartLine {
  label: string;
  color: string;
  series: Series;
}

export interface ChartOptions {
  smoothing: number;
  logScale: boolean;
  theme: { foreground: string; grid: string };
}

function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color.trim());
  if (!m) return color;
  return `#${m[1]}${Math.round(alpha * 255).toString(16).padStart(2, '0')}`;
}

export class MetricChart {
  readonly root: HTMLElement;
  private plot: uPlot | undefined;
  private zoom: [number, number] | undefined;
  private settingData = false;

  constructor(
    parent: HTMLElement,
    readonly title: string,
    private readonly lines: ChartLine[],
    private readonly opts: ChartOptions,
  ) {
    this.root = h('div', { class: 'chart', attrs: { 'data-metric': title } });
    parent.append(this.root);
  }

  /** Width of the chart's box, for buckets and uPlot's size. */
  private width(): number {
    return Math.max(240, Math.floor(this.root.clientWidth || 480));
  }

  private data(): uPlot.AlignedData {
    const buckets = Math.max(64, this.width());
    const all = this.lines.map((l) => l.series);
    if (sameX(all)) {
      // one x column for every line (same rows): decimate together, so values stay aligned
      const ys: ArrayLike<number>[] = [];
      for (const s of all) {
        const raw = s.y.subarray(0, s.length);
        if (this.opts.smoothing > 0) ys.push(this.opts.logScale ? positiveOnly(raw) : raw);
        const shown = this.opts.smoothing > 0 ? s.smooth(this.opts.smoothing) : raw;
        ys.push(this.opts.logScale ? positiveOnly(shown) : shown);
      }
      return decimateShared(all[0].x, ys, all[0].length, buckets, this.zoom) as uPlot.AlignedData;
    }
    const parts: { x: number[]; y: number[] }[] = [];
    for (const line of this.lines) {
      const s = line.series;
      let y: ArrayLike<number> = s.y.subarray(0, s.length);
      if (this.opts.logScale) y = positiveOnly(y);
      if (this.opts.smoothing > 0) {
        // raw line, faint, under the smoothed one
        parts.push(decimate(s.x, y, s.length, buckets, this.zoom));
        let sm: ArrayLike<number> = s.smooth(this.opts.smoothing);
        if (this.opts.logScale) sm = positiveOnly(sm);
        parts.push(decimate(s.x, sm, s.length, buckets, this.zoom));
      } else {
        parts.push(decimate(s.x, y, s.length, buckets, this.zoom));
      }
    }
    return alignSeries(parts) as uPlot.AlignedData;
  }

  private create(): void {
    const { theme, smoothing, logScale } = this.opts;
    const series: uPlot.Series[] = [{ label: 'step' }];
    for (const line of this.lines) {
      if (smoothing > 0) {
        series.push({ label: `${line.label} (raw)`, stroke: withAlpha(line.color, 0.3), width: 1, spanGaps: true, points: { show: false } });
      }
      series.push({ label: line.label, stroke: line.color, width: 1.5, spanGaps: true, points: { show: false } });
    }
    const axis = { stroke: theme.foreground, grid: { stroke: theme.grid, width: 1 }, ticks: { stroke: theme.grid, width: 1 } };
    const opts: uPlot.Options = {
      title: this.title,
      width: this.width(),
      height: 220,
      series,
      scales: { x: { time: false }, y: logScale ? { distr: 3, log: 10 } : { distr: 1 } },
      axes: [axis, { ...axis, size: 60 }],
      // drag to zoom; double-click is ours (uPlot's own reset would only show the zoomed data)
      cursor: { drag: { x: true, y: false }, bind: { dblclick: () => null } },
      legend: { show: true, live: true },
      hooks: {
        setScale: [
          (u, key) => {
            if (key !== 'x' || this.settingData) return;
            const min = u.scales.x.min;
            const max = u.scales.x.max;
            if (min == null || max == null) return;
            const full = this.fullRange();
            const zoom: [number, number] | undefined = full && min <= full[0] && max >= full[1] ? undefined : [min, max];
            if (zoom?.[0] === this.zoom?.[0] && zoom?.[1] === this.zoom?.[1]) return;
            this.zoom = zoom;
            // Re-decimate inside the new range after uPlot has finished this scale change
            // (new data inside its hook would be drawn with the old data's visible indices).
            requestAnimationFrame(() => this.applyZoom());
          },
        ],
      },
    };
    this.plot = new uPlot(opts, this.data(), this.root);
    this.plot.over.addEventListener('dblclick', () => {
      this.zoom = undefined;
      this.redraw(true);
    });
  }

  private fullRange(): [number, number] | undefined {
    let lo = Infinity;
    let hi = -Infinity;
    for (const { series: s } of this.lines) {
      if (!s.length) continue;
      lo = Math.min(lo, s.x[0]);
      hi = Math.max(hi, s.x[s.length - 1]);
    }
    return lo <= hi ? [lo, hi] : undefined;
  }

  private applyZoom(): void {
    if (!this.plot) return;
    this.settingData = true;
    try {
      this.plot.setData(this.data(), !this.zoom);
      if (this.zoom) this.plot.setScale('x', { min: this.zoom[0], max: this.zoom[1] });
    } finally {
      this.settingData = false;
    }
  }

  /** Re-decimates and draws; keeps the zoom unless resetScales. */
  redraw(resetScales = !this.zoom): void {
    if (!this.plot) {
      this.create();
      return;
    }
    this.settingData = true;
    try {
      this.plot.setData(this.data(), resetScales);
    } finally {
      this.settingData = false;
    }
  }

  resize(): void {
    this.plot?.setSize({ width: this.width(), height: 220 });
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.root.remove();
  }
}

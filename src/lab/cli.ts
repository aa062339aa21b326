// The `proxlab` command line: the same engine and run store as the extension, headless.
// Exit codes: 0 success, 1 a run or claim failed, 2 bad usage or input, 130 interrupted.
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Device, Experiment } from '../core/experiment';
import { runChild } from './runs/child';
import { readClaims, runClaim, writeClaims } from './runs/claims';
import { applySets, ConfigError, describeFields, readConfigFile, type FieldInfo } from './runs/config';
import { METHODS, methodStatus } from './runs/methods';
import { packageVersion } from './runs/package-root';
import { getExperiment, listExperiments } from './runs/registry';
import { startRun } from './runs/runner';
import { METRICS_FILE, readJsonl, RunStore, SAMPLES_FILE, type RunRecord } from './runs/store';

export class UsageError extends Error {}

type Out = { log(s: string): void; err(s: string): void; isTTY: boolean };
const defaultOut: Out = {
  log: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
  isTTY: Boolean(process.stdout.isTTY),
};

const COMMON_HELP = `Global options:
  --runs-dir DIR   run store folder (default: $PROXLAB_RUNS_DIR or ./.proxlab/runs)
  --json           machine-readable output where it applies
  -h, --help       help for a command`;

const HELP: Record<string, string> = {
  main: `proxlab ${packageVersion()} — a local alignment and optimization lab

Usage: proxlab <command> [options]

Commands:
  list                      methods of the 41 papers, with kind and status
  run <id> [options]        run an experiment (see: proxlab run <id> --help)
  runs                      table of stored runs
  show <runId>              config, status and last metrics of a run
  export <runId>            metrics (or samples) as CSV or JSONL
  claims [--only ids]       run the claim checks; exits 1 if any fails
  lm <subcommand>           language models: train-tokenizer, pretrain, sample, eval, export, import
  bench <name>              benchmarks (e.g. bench train --d-model 256 ...)

${COMMON_HELP}`,
  list: `Usage: proxlab list [--kind alignment|rl|solver|optimizer] [--json]

Lists the methods of the 41 papers with their experiment ids, kind and status
(not yet | runs | claim reproduced | claim failed).`,
  run: `Usage: proxlab run <id> [options]
       proxlab run --resume <runId> [options]

Options:
  --resume RUNID         continue an interrupted or failed run from its last checkpoint, as a new run with
                         the same experiment, config, seed and device (experiments with a resumeFrom field)
  --task NAME            task (default: the experiment's first task)
  --model NAME           model (bundled name, local folder or Hub id) where the experiment uses one
  --config FILE          JSON object of config values
  --set KEY=VALUE        override one config value (repeatable; dotted keys for nested values)
  --seed N               random seed (default 0): same seed, same CPU, same metrics
  --device cpu|cuda      execution device (default cpu; cuda falls back to cpu with a message)
  --threads N            intra-op threads (default 1)
  --runs-dir DIR         run store folder
  --inline               run in this process instead of a child process (debugging)
  --quiet                no progress output

proxlab run <id> --help lists the experiment's config fields.`,
  runs: `Usage: proxlab runs [--experiment ID] [--json]

Lists stored runs, newest first. A run whose process died is shown as interrupted.`,
  show: `Usage: proxlab show <runId> [--json]

Shows a run's status, config, summary and last metrics. <runId> may be a unique prefix or suffix.`,
  export: `Usage: proxlab export <runId> --format csv|jsonl [--samples] [--out FILE]

Writes the run's metrics (or samples with --samples) to stdout or FILE.`,
  bench: `Usage: proxlab bench train [--family gpt2|llama] [--d-model D] [--layers L] [--heads H] [--vocab V]
                          [--ctx T] [--batch B] [--threads N] [--steps S] [--placement graph|js]

Times whole training steps (forward, backward, AdamW) of a GPT-2 or LLaMA-style model compiled to one
ONNX graph and prints one JSON line: tokens_per_s, step_s_median, params, gflops_per_s, peak_rss_mb.
Defaults: llama, d 256, 4 layers, 4 heads, vocab 4096, ctx 128, batch 16, 1 thread, 10 steps.
The side-by-side comparison with PyTorch is \`npm run bench -- train\`.`,
  claims: `Usage: proxlab claims [--only id,id] [--full] [--seeds 0,1,2] [--json]

Runs each method's claim check (fast form by default; --full: several seeds, larger problems),
prints a table, stores the outcome in <runs-dir>/claims.json, and exits 1 if any check fails.`,
};

function runsDirOf(v: unknown): string {
  return resolve(typeof v === 'string' && v ? v : process.env.PROXLAB_RUNS_DIR || join(process.cwd(), '.proxlab', 'runs'));
}

function parse(argv: string[], options: ParseArgsConfig['options'], cmd: string): { values: Record<string, any>; positionals: string[] } {
  try {
    return parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' }, 'runs-dir': { type: 'string' }, json: { type: 'boolean' }, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/, '');
    throw new UsageError(`${msg}\n\n${HELP[cmd] ?? HELP.main}`);
  }
}

function intOption(name: string, v: string | undefined, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: got '${v}', expected an integer from ${min} to ${max}`);
  return n;
}

function table(rows: string[][], header: string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

function fmtNum(v: unknown): string {
  if (typeof v !== 'number') return v === null ? 'null' : String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : v.toPrecision(5);
}

function fieldLine(f: FieldInfo): string {
  let range = '';
  if (f.options) range = ` {${f.options.join('|')}}`;
  else if (f.min !== undefined || f.max !== undefined) {
    range = ` [${f.min ?? '-inf'}${f.exclusiveMin ? ' (excl.)' : ''} .. ${f.max ?? 'inf'}${f.exclusiveMax ? ' (excl.)' : ''}]`;
  }
  return `  ${f.name.padEnd(20)} ${f.type}${range}, default ${JSON.stringify(f.default)}\n      ${f.help}`;
}

function experimentHelp(exp: Experiment): string {
  return `${exp.id}: ${exp.title}
Paper: ${exp.paper}
Kind: ${exp.kind}; tasks: ${exp.tasks.join(', ') || 'default'}${exp.claim ? `\nClaim: ${exp.claim.statement}` : ''}

Config fields (--set KEY=VALUE or --config FILE):
${describeFields(exp.schema).map(fieldLine).join('\n')}

${HELP.run}`;
}

function requireExperiment(id: string | undefined): Experiment {
  if (!id) throw new UsageError(`missing experiment id\n\n${HELP.run}`);
  const exp = getExperiment(id);
  if (!exp) {
    const ids = listExperiments().map((e) => e.id);
    throw new UsageError(`unknown experiment '${id}'; available: ${ids.join(', ') || '(none)'}`);
  }
  return exp;
}

function requireRun(store: RunStore, id: string | undefined, cmd: string): RunRecord {
  if (!id) throw new UsageError(`missing run id\n\n${HELP[cmd]}`);
  let rec: RunRecord | undefined;
  try {
    rec = store.get(id);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!rec) throw new UsageError(`no run '${id}' in ${store.runsDir} (see: proxlab runs)`);
  return rec;
}

function cmdList(argv: string[], out: Out): number {
  const { values } = parse(argv, { kind: { type: 'string' } }, 'list');
  if (values.help) return out.log(HELP.list), 0;
  const kinds = ['alignment', 'rl', 'solver', 'optimizer'];
  if (values.kind !== undefined && !kinds.includes(values.kind as string)) throw new UsageError(`--kind: got '${values.kind}', expected one of: ${kinds.join(', ')}`);
  const registered = new Set(listExperiments().map((e) => e.id));
  const claims = readClaims(runsDirOf(values['runs-dir']));
  const rows = METHODS.filter((m) => !values.kind || m.kind === values.kind).flatMap((m) =>
    m.ids.map((id) => ({ n: m.n, id, kind: m.kind, status: methodStatus(id, registered, claims), paper: m.paper })),
  );
  if (values.json) return out.log(JSON.stringify(rows, null, 2)), 0;
  out.log(table(rows.map((r) => [String(r.n), r.id, r.kind, r.status, r.paper.length > 60 ? r.paper.slice(0, 57) + '...' : r.paper]), ['#', 'id', 'kind', 'status', 'paper']));
  const runnable = rows.filter((r) => r.status !== 'not yet').length;
  out.log(`\n${runnable} of ${rows.length} methods runnable. Run one: proxlab run <id>; its options: proxlab run <id> --help`);
  return 0;
}

class ProgressBar {
  private last = 0;
  constructor(private out: Out, private label: string) {}
  update(p: { step: number; total: number; metric?: string; value?: number; etaS?: number }) {
    const now = Date.now();
    if (now - this.last < 100 && p.step < p.total) return;
    this.last = now;
    const frac = p.total > 0 ? Math.min(1, p.step / p.total) : 0;
    const metric = p.metric !== undefined && p.value !== undefined ? `  ${p.metric}=${fmtNum(p.value)}` : '';
    const eta = p.etaS !== undefined && p.step < p.total ? `  ETA ${p.etaS.toFixed(0)}s` : '';
    if (this.out.isTTY) {
      const width = 24;
      const filled = Math.round(frac * width);
      process.stdout.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  step ${p.step}/${p.total}${eta}${metric}\x1b[K`);
    } else if (now - this.last >= 0) {
      this.out.log(`${this.label} step ${p.step}/${p.total} (${(frac * 100).toFixed(0)}%)${eta}${metric}`);
    }
  }
  end() {
    if (this.out.isTTY) process.stdout.write('\n');
  }
}

async function cmdRun(argv: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      task: { type: 'string' },
      model: { type: 'string' },
      config: { type: 'string' },
      set: { type: 'string', multiple: true },
      seed: { type: 'string' },
      device: { type: 'string' },
      threads: { type: 'string' },
      inline: { type: 'boolean' },
      quiet: { type: 'boolean' },
      resume: { type: 'string' },
    },
    'run',
  );
  if (values.help && !positionals[0]) return out.log(HELP.run), 0;
  const runsDir = runsDirOf(values['runs-dir']);
  let resumed: RunRecord | undefined;
  if (values.resume !== undefined) {
    const store = new RunStore(runsDir);
    resumed = requireRun(store, values.resume, 'run');
    if (positionals[0] && positionals[0] !== resumed.experiment) {
      throw new UsageError(`--resume: run '${resumed.id}' is a '${resumed.experiment}' run, not '${positionals[0]}'`);
    }
    const e = requireExperiment(resumed.experiment);
    if (!('resumeFrom' in e.schema.shape)) throw new UsageError(`--resume: experiment '${e.id}' keeps no checkpoints to resume from; start it again with proxlab run ${e.id}`);
    if (resumed.status === 'running') throw new UsageError(`--resume: run '${resumed.id}' is still running`);
    resumed = { ...resumed, config: { ...resumed.config, resumeFrom: store.dirOf(resumed.id) } };
  }
  const exp = requireExperiment(positionals[0] ?? resumed?.experiment);
  if (values.help) return out.log(experimentHelp(exp)), 0;
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'; config values go through --set KEY=VALUE`);
  const device = (values.device ?? resumed?.device ?? 'cpu') as Device;
  if (device !== 'cpu' && device !== 'cuda') throw new UsageError(`--device: got '${values.device}', expected cpu or cuda`);
  const seed = intOption('seed', values.seed as string | undefined, 0, 2 ** 31 - 1, resumed?.seed ?? 0);
  const threads = intOption('threads', values.threads as string | undefined, 1, 256, resumed?.threads ?? 1);
  const base = { ...resumed?.config, ...(values.config ? readConfigFile(values.config as string) : {}) };
  const config = applySets(exp, base, (values.set as string[] | undefined) ?? []);
  const task = (values.task as string | undefined) ?? resumed?.task;
  const model = (values.model as string | undefined) ?? resumed?.model;
  const spec = { experiment: exp.id, task, model, config, seed, device, threads };

  if (values.inline) {
    const { runInProcess } = await import('./runs/context');
    const r = await runInProcess(exp, { ...spec, runsDir });
    out.log(`run ${r.record.id} completed\n  folder: ${r.dir}`);
    return 0;
  }

  let handle;
  try {
    handle = startRun(spec, { runsDir });
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new UsageError((e as Error).message);
  }
  const started = Date.now();
  if (!values.quiet && !values.json) out.log(`run ${handle.id} (${exp.id}) started\n  folder: ${handle.dir}`);
  const bar = new ProgressBar(out, exp.id);
  if (!values.quiet && !values.json) handle.onProgress((p) => bar.update(p));
  handle.onInfo((m) => {
    if (values.quiet || values.json) return;
    if (out.isTTY) process.stdout.write('\r\x1b[K');
    out.err(m);
  });
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    out.err('\ncancelling (Ctrl-C again to force)...');
    process.removeListener('SIGINT', onSigint);
    void handle.cancel();
  };
  process.on('SIGINT', onSigint);
  const rec = await handle.done;
  process.removeListener('SIGINT', onSigint);
  bar.end();
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (values.json) {
    out.log(JSON.stringify(rec, null, 2));
  } else {
    out.log(`run ${rec.id} ${rec.status} in ${secs}s`);
    if (rec.summary) out.log(summaryLines(rec.summary));
    if (rec.error) out.err(`error: ${rec.error}`);
    out.log(`  folder: ${handle.dir}\n  inspect: proxlab show ${rec.id}${values['runs-dir'] ? ` --runs-dir ${values['runs-dir']}` : ''}`);
  }
  if (interrupted || rec.status === 'cancelled') return 130;
  return rec.status === 'completed' ? 0 : 1;
}

function summaryLines(summary: Record<string, unknown>): string {
  return Object.entries(summary)
    .filter(([, v]) => typeof v !== 'object' || v === null)
    .map(([k, v]) => `  ${k}: ${fmtNum(v)}`)
    .join('\n');
}

function cmdRuns(argv: string[], out: Out): number {
  const { values } = parse(argv, { experiment: { type: 'string' } }, 'runs');
  if (values.help) return out.log(HELP.runs), 0;
  const store = new RunStore(runsDirOf(values['runs-dir']));
  const runs = store.list().filter((r) => !values.experiment || r.experiment === values.experiment);
  if (values.json) return out.log(JSON.stringify(runs, null, 2)), 0;
  if (!runs.length) return out.log(`no runs in ${store.runsDir} (start one: proxlab run cbo)`), 0;
  const rows = runs.map((r) => {
    const exp = getExperiment(r.experiment);
    const key = exp?.keyMetric;
    const v = key && r.summary ? (r.summary as Record<string, unknown>)[key.replace('/', '_')] : undefined;
    const dur = r.endedAt && r.startedAt ? `${((Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1)}s` : '';
    return [r.id, r.experiment, r.status, r.createdAt.replace('T', ' ').slice(0, 19), dur, v === undefined ? '' : fmtNum(v)];
  });
  out.log(table(rows, ['run', 'experiment', 'status', 'created (UTC)', 'duration', 'key metric']));
  return 0;
}

function cmdShow(argv: string[], out: Out): number {
  const { values, positionals } = parse(argv, {}, 'show');
  if (values.help) return out.log(HELP.show), 0;
  const store = new RunStore(runsDirOf(values['runs-dir']));
  const rec = requireRun(store, positionals[0], 'show');
  const dir = store.dirOf(rec.id);
  const metrics = readJsonl(join(dir, METRICS_FILE)) as Record<string, unknown>[];
  const last: Record<string, unknown> = {};
  for (const row of metrics) for (const [k, v] of Object.entries(row)) if (v !== null && v !== undefined) last[k] = v;
  if (values.json) return out.log(JSON.stringify({ ...rec, dir, metricsRows: metrics.length, lastMetrics: last }, null, 2)), 0;
  const lines = [
    `run        ${rec.id}`,
    `experiment ${rec.experiment} (task ${rec.task}${rec.model ? `, model ${rec.model}` : ''})`,
    `status     ${rec.status}${rec.progress ? ` (step ${rec.progress.step}/${rec.progress.total})` : ''}`,
    `seed       ${rec.seed}   device ${rec.device}   threads ${rec.threads}`,
    `created    ${rec.createdAt}${rec.endedAt ? `   ended ${rec.endedAt}` : ''}`,
    `folder     ${dir}`,
  ];
  if (rec.error) lines.push(`error      ${rec.error}`);
  lines.push('', 'config:', ...Object.entries(rec.config).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`));
  if (rec.summary) lines.push('', 'summary:', summaryLines(rec.summary));
  lines.push('', `last metrics (${metrics.length} rows):`, ...Object.entries(last).map(([k, v]) => `  ${k}: ${fmtNum(v)}`));
  out.log(lines.join('\n'));
  return 0;
}

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function cmdExport(argv: string[], out: Out): number {
  const { values, positionals } = parse(argv, { format: { type: 'string' }, samples: { type: 'boolean' }, out: { type: 'string' } }, 'export');
  if (values.help) return out.log(HELP.export), 0;
  const format = values.format ?? 'csv';
  if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format: got '${format}', expected csv or jsonl`);
  const store = new RunStore(runsDirOf(values['runs-dir']));
  const rec = requireRun(store, positionals[0], 'export');
  const rows = readJsonl(join(store.dirOf(rec.id), values.samples ? SAMPLES_FILE : METRICS_FILE)) as Record<string, unknown>[];
  let text: string;
  if (format === 'jsonl') {
    text = rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
  } else {
    const cols: string[] = [];
    const seen = new Set<string>();
    for (const r of rows) {
      for (const k of Object.keys(r)) {
        if (!seen.has(k)) {
          seen.add(k);
          cols.push(k);
        }
      }
    }
    text = [cols.map(csvCell).join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n';
  }
  if (values.out) {
    writeFileSync(values.out as string, text);
    out.err(`wrote ${rows.length} rows to ${values.out}`);
  } else process.stdout.write(text);
  return 0;
}

async function cmdBench(argv: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      family: { type: 'string' },
      'd-model': { type: 'string' },
      layers: { type: 'string' },
      heads: { type: 'string' },
      vocab: { type: 'string' },
      ctx: { type: 'string' },
      batch: { type: 'string' },
      threads: { type: 'string' },
      steps: { type: 'string' },
      placement: { type: 'string' },
    },
    'bench',
  );
  if (values.help || !positionals[0]) return out.log(HELP.bench), values.help ? 0 : 2;
  if (positionals[0] !== 'train') throw new UsageError(`unknown benchmark '${positionals[0]}'; available: train`);
  const family = (values.family ?? 'llama') as 'gpt2' | 'llama';
  if (family !== 'gpt2' && family !== 'llama') throw new UsageError(`--family: got '${values.family}', expected gpt2 or llama`);
  const placement = (values.placement ?? 'graph') as 'graph' | 'js';
  if (placement !== 'graph' && placement !== 'js') throw new UsageError(`--placement: got '${values.placement}', expected graph or js`);
  const opts = {
    family,
    dModel: intOption('d-model', values['d-model'], 8, 8192, 256),
    layers: intOption('layers', values.layers, 1, 128, 4),
    heads: intOption('heads', values.heads, 1, 128, 4),
    vocab: intOption('vocab', values.vocab, 2, 1_000_000, 4096),
    ctx: intOption('ctx', values.ctx, 2, 65536, 128),
    batch: intOption('batch', values.batch, 1, 4096, 16),
    threads: intOption('threads', values.threads, 1, 256, 1),
    steps: intOption('steps', values.steps, 1, 100000, 10),
    placement,
  };
  if (opts.dModel % opts.heads !== 0) throw new UsageError(`--d-model ${opts.dModel} must be divisible by --heads ${opts.heads}`);
  const { trainBench } = await import('../core/bench/train');
  const r = await trainBench(opts);
  out.log(JSON.stringify({ bench: 'train', ...opts, ...r }));
  return 0;
}

async function cmdClaims(argv: string[], out: Out): Promise<number> {
  const { values } = parse(argv, { only: { type: 'string' }, full: { type: 'boolean' }, seeds: { type: 'string' } }, 'claims');
  if (values.help) return out.log(HELP.claims), 0;
  let exps = listExperiments().filter((e) => e.claim);
  if (values.only) {
    const ids = (values.only as string).split(',').map((s) => s.trim()).filter(Boolean);
    for (const id of ids) {
      const e = getExperiment(id);
      if (!e) throw new UsageError(`--only: unknown experiment '${id}'; available: ${listExperiments().map((x) => x.id).join(', ')}`);
      if (!e.claim) throw new UsageError(`--only: experiment '${id}' declares no claim check`);
    }
    exps = exps.filter((e) => ids.includes(e.id));
  }
  const seeds = values.seeds
    ? (values.seeds as string).split(',').map((s) => {
        const n = Number(s);
        if (!Number.isInteger(n) || n < 0) throw new UsageError(`--seeds: got '${s}', expected non-negative integers separated by commas`);
        return n;
      })
    : [0, 1, 2];
  const form = values.full ? 'full' : 'fast';
  const results = [];
  for (const e of exps) {
    if (!values.json) out.err(`checking ${e.id} (${form})...`);
    results.push(await runClaim(e, form, seeds));
  }
  writeClaims(runsDirOf(values['runs-dir']), results);
  if (values.json) out.log(JSON.stringify(results, null, 2));
  else {
    out.log(table(results.map((r) => [r.id, r.pass ? 'PASS' : 'FAIL', r.form, `${r.seconds.toFixed(1)}s`, r.summary]), ['method', 'result', 'form', 'time', 'measured']));
    const failed = results.filter((r) => !r.pass).length;
    out.log(`\n${results.length - failed} passed, ${failed} failed`);
  }
  return results.every((r) => r.pass) ? 0 : 1;
}

const extraCommands: Record<string, (argv: string[]) => Promise<number>> = {};

/** Lets other modules add subcommands (e.g. `lm`, `bench`) without the CLI importing them eagerly. */
export function registerCommand(name: string, fn: (argv: string[]) => Promise<number>): void {
  extraCommands[name] = fn;
}

export async function main(argv: string[], out: Out = defaultOut): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out.log(HELP.main);
        return 0;
      case '--version':
      case '-v':
        out.log(packageVersion());
        return 0;
      case 'list':
        return cmdList(rest, out);
      case 'run':
        return await cmdRun(rest, out);
      case 'runs':
        return cmdRuns(rest, out);
      case 'show':
        return cmdShow(rest, out);
      case 'export':
        return cmdExport(rest, out);
      case 'claims':
        return await cmdClaims(rest, out);
      case 'bench':
        return await cmdBench(rest, out);
      case 'lm': {
        const { lmCommand } = await import('./lm/cli');
        return await lmCommand(rest);
      }
      case '__child':
        if (!rest[0] || !existsSync(rest[0])) throw new UsageError('__child needs a run folder');
        {
          const code = await runChild(rest[0]);
          // The IPC channel keeps the child alive: close it so the process can exit.
          if (process.connected) process.disconnect();
          return code;
        }
      default:
        if (extraCommands[cmd]) return await extraCommands[cmd](rest);
        throw new UsageError(`unknown command '${cmd}'\n\n${HELP.main}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      out.err(`proxlab: ${e.message}`);
      return 2;
    }
    if (e instanceof ConfigError) {
      out.err(`proxlab: invalid config:\n${e.errors.map((x) => `  ${x.field}: ${x.message}`).join('\n')}`);
      return 2;
    }
    out.err(`proxlab: ${(e as Error)?.message ?? String(e)}`);
    if (process.env.PROXLAB_DEBUG) out.err(String((e as Error)?.stack));
    return 1;
  }
}

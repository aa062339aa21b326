// A diagnostic experiment for the runner and the run store (hidden from `list`): it can finish,
// throw, run slowly, exhaust its heap, or exit abruptly, so tests and users can check the lifecycle.
import { join } from 'node:path';
import { z } from 'zod';
import { defineExperiment } from '../../core/experiment';
import { METRICS_FILE, readJsonl } from './store';

export const selftestExperiment = defineExperiment({
  id: '_selftest',
  title: 'Runner self-test',
  paper: '(none: diagnostics)',
  kind: 'solver',
  tasks: ['default'],
  keyMetric: 'value',
  schema: z
    .object({
      mode: z.enum(['ok', 'throw', 'slow', 'oom', 'exit']).default('ok').describe('What the run does'),
      steps: z.number().int().min(1).max(1_000_000).default(20).describe('Steps to log'),
      stepMs: z.number().int().min(0).max(60_000).default(0).describe('Sleep per step in ms'),
      ignoreCancel: z.boolean().default(false).describe('Ignore cancel messages (tests the SIGTERM/SIGKILL escalation)'),
      resumeFrom: z.string().default('').describe('Run folder of an earlier run to continue after its last logged step (proxlab run --resume)'),
    })
    .strict(),
  async run(ctx) {
    const c = ctx.config;
    const done = c.resumeFrom ? (readJsonl(join(c.resumeFrom, METRICS_FILE)) as { step: number }[]) : [];
    const first = done.length ? done[done.length - 1].step + 1 : 1;
    if (c.resumeFrom) ctx.info(`resuming after step ${first - 1} of ${c.resumeFrom}`);
    for (let step = first; step <= c.steps; step++) {
      if (!c.ignoreCancel) ctx.throwIfCancelled();
      ctx.log(step, { value: 1 / step, rng: ctx.rng.uniform() });
      ctx.progress(step, c.steps, { metric: 'value', value: 1 / step });
      if (c.mode === 'throw' && step === Math.ceil(c.steps / 2) && !c.resumeFrom) throw new Error(`selftest failure at step ${step}`);
      if (c.mode === 'exit' && step === Math.ceil(c.steps / 2) && !c.resumeFrom) process.exit(3);
      if (c.mode === 'oom') {
        const hog: number[][] = [];
        for (;;) hog.push(new Array(1e6).fill(step));
      }
      if (c.stepMs > 0 || c.mode === 'slow') await new Promise((r) => setTimeout(r, c.stepMs || 200));
    }
    ctx.sample({ prompt: 'selftest', completion: 'done', reward: 1 });
    ctx.artifact('result.json', { steps: c.steps });
    return { value: 1 / c.steps, steps: c.steps, ...(c.resumeFrom ? { first_step: first } : {}) };
  },
});

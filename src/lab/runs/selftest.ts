// A diagnostic experiment for the runner and the run store (hidden from `list`): it can finish,
// throw, run slowly, exhaust its heap, or exit abruptly, so tests and users can check the lifecycle.
import { z } from 'zod';
import { defineExperiment } from '../../core/experiment';

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
    })
    .strict(),
  async run(ctx) {
    const c = ctx.config;
    for (let step = 1; step <= c.steps; step++) {
      if (!c.ignoreCancel) ctx.throwIfCancelled();
      ctx.log(step, { value: 1 / step, rng: ctx.rng.uniform() });
      ctx.progress(step, c.steps, { metric: 'value', value: 1 / step });
      if (c.mode === 'throw' && step === Math.ceil(c.steps / 2)) throw new Error(`selftest failure at step ${step}`);
      if (c.mode === 'exit' && step === Math.ceil(c.steps / 2)) process.exit(3);
      if (c.mode === 'oom') {
        const hog: number[][] = [];
        for (;;) hog.push(new Array(1e6).fill(step));
      }
      if (c.stepMs > 0 || c.mode === 'slow') await new Promise((r) => setTimeout(r, c.stepMs || 200));
    }
    ctx.sample({ prompt: 'selftest', completion: 'done', reward: 1 });
    ctx.artifact('result.json', { steps: c.steps });
    return { value: 1 / c.steps, steps: c.steps };
  },
});

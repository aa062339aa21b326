// Every registered experiment's claim check, fast form, seed 0: the paper's qualitative claim
// must reproduce. Experiments that declare no claim fail here too: a method is not done without one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listExperiments } from '../../src/lab/runs/registry';
import { runClaim } from '../../src/lab/runs/claims';

for (const exp of listExperiments()) {
  test(`claim check (fast): ${exp.id}`, async () => {
    assert.ok(exp.claim, `${exp.id} declares no claim check`);
    const r = await runClaim(exp, 'fast', [0]);
    assert.ok(r.pass, `${exp.id}: ${r.summary}`);
    console.log(`# ${exp.id}: ${r.summary} (${r.seconds.toFixed(1)}s)`);
  });
}

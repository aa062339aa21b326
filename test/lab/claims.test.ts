// Every registered experiment's claim check, fast form, seed 0: the paper's qualitative claim
// must reproduce. Experiments that declare no claim fail here too: a method is not done without one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listExperiments } from '../../src/lab/runs/registry';
import { runClaim } from '../../src/lab/runs/claims';

// Claims measured and found NOT to reproduce on our tasks yet (figures in the README's method table).
// They still run and print what they measured; node's test runner reports them as todo instead of
// failing CI. Remove an entry once its claim holds — a passing todo is reported too.
const NOT_YET_REPRODUCED: Record<string, string> = {
  harpg: 'N-HARPG trails vanilla PG at 2000 trajectories on 1-D LQG, the double integrator and CartPole; a pre-registered 20000-trajectory check on 1-D LQG failed (2/3 fresh seeds, 5/6 in all), and there the same recursion without the Hessian correction (N-SGDM) beats N-HARPG on 5/6 seeds; three pre-registered replications of the authors\' garage CartPole set-up (paper estimator, their code\'s Hessian term, their softmax-MLP policy) each failed on 3/3 fresh seeds (mean gap 47–124 vs vanilla 7–12)',
  'lr-refine': 'linear decay beats cosine (−0.15), but refinement does not improve the suite median (+0.041, 3 seeds): helps MLP+Adam (−0.12), ties logistic+SGD, loses on logistic+Adam (+0.04), MLP+SGD (+1.38) and the byte-level GPT with AdamW (+0.032, 3/3 seeds: its ℓ1 norms rise, so the refined schedule peaks at 0.07T and anneals early)',
};

for (const exp of listExperiments()) {
  const todo = NOT_YET_REPRODUCED[exp.id];
  test(`claim check (fast): ${exp.id}`, todo ? { todo } : {}, async () => {
    assert.ok(exp.claim, `${exp.id} declares no claim check`);
    const r = await runClaim(exp, 'fast', [0]);
    console.log(`# ${exp.id}: ${r.pass ? 'PASS' : 'FAIL'} ${r.summary} (${r.seconds.toFixed(1)}s)`);
    assert.ok(r.pass, `${exp.id}: ${r.summary}`);
  });
}

test('the not-yet-reproduced list names only registered experiments', () => {
  const ids = new Set(listExperiments().map((e) => e.id));
  for (const id of Object.keys(NOT_YET_REPRODUCED)) assert.ok(ids.has(id), `${id} is not registered`);
});

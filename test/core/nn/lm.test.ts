// The weighted token-NLL step (alignment.md §0.3): with DPO's per-token weights it takes exactly
// the DPO gradient step; log-probs agree with a direct log-softmax of the logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, Tensor } from '../../../src/core/graph/graph';
import * as O from '../../../src/core/graph/ops';
import { grad } from '../../../src/core/graph/autodiff';
import { compile } from '../../../src/core/runtime/session';
import { ParamScope, ParamStore } from '../../../src/core/nn/params';
import { type LmSpec, compileLogProbs, compileWeightedNllStep, lmLogits } from '../../../src/core/nn/lm';
import { sequenceLogProbs } from '../../../src/core/nn/losses';
import { sgd } from '../../../src/core/optim/sgd';
import { compileEval } from '../../../src/core/optim/train-step';
import { Rng } from '../../../src/core/rng';
import { relErr } from './fixtures';

const model: LmSpec = { family: 'llama', config: { vocabSize: 23, hiddenSize: 16, intermediateSize: 40, numLayers: 1, numHeads: 2, maxPositionEmbeddings: 8 } };
const B = 2, T = 8, PROMPT = 3, beta = 0.5;

test('weighted NLL step with DPO weights = a DPO gradient step; log-probs are log-softmax gathers', async (t) => {
  const rng = new Rng(3);
  const policy = new ParamStore(new Rng(1));
  const ref = new ParamStore(new Rng(2));
  // declare both stores' parameters by building the model once each
  for (const store of [policy, ref]) {
    const g0 = new Graph();
    lmLogits(new ParamScope(g0, store), model, g0.input('i', 'int64', [1, T]));
  }
  // sequence 0 = chosen, 1 = rejected, same prompt
  const ids = new BigInt64Array(B * T);
  for (let i = 0; i < T; i++) ids[i] = ids[T + i] = BigInt(rng.int(23));
  for (let i = PROMPT; i < T; i++) ids[T + i] = BigInt(rng.int(23));
  const mask = new Float32Array(B * (T - 1));
  for (let b = 0; b < B; b++) for (let i = PROMPT - 1; i < T - 1; i++) mask[b * (T - 1) + i] = 1;

  const lpPolicy = await compileLogProbs({ params: policy, model, batch: B, ctx: T });
  const lpRef = await compileLogProbs({ params: ref, model, batch: B, ctx: T });
  const lp = await lpPolicy.run(ids);
  const lr0 = await lpRef.run(ids);
  const seqSum = (x: Float32Array, b: number) => x.slice(b * (T - 1), (b + 1) * (T - 1)).reduce((s, v, i) => s + v * mask[b * (T - 1) + i], 0);
  const h = seqSum(lp, 0) - seqSum(lr0, 0) - (seqSum(lp, 1) - seqSum(lr0, 1));
  const c = beta / (1 + Math.exp(beta * h)); // β σ(-βh)
  const weights = new Float32Array(B * (T - 1));
  for (let i = 0; i < T - 1; i++) {
    weights[i] = c * mask[i];
    weights[T - 1 + i] = -c * mask[T - 1 + i];
  }

  // direct DPO gradient: -log σ(β h(θ)) with the reference log-probs as data
  const g = new Graph();
  const x = g.input('input_ids', 'int64', [B, T]);
  const refSums = g.input('ref', 'float32', [B]);
  const m = g.input('mask', 'float32', [B, T - 1]);
  const s = new ParamScope(g, policy);
  const sums = O.sum(O.mul(sequenceLogProbs(lmLogits(s, model, x), x), m), [1]); // [B]
  const d = O.sub(sums, refSums);
  const hT = O.sub(O.slice(d, [0], [1]), O.slice(d, [1], [2]));
  const dpo = O.sum(O.softplus(O.neg(O.mul(hT, beta))));
  const names = [...s.used.keys()];
  const gs = grad(dpo, names.map((n) => s.used.get(n)!));
  const outs: Record<string, Tensor> = {};
  names.forEach((n, i) => (outs[n + '.grad'] = gs[i]));
  const feeds: Record<string, Float32Array | BigInt64Array> = { input_ids: ids, ref: Float32Array.of(seqSum(lr0, 0), seqSum(lr0, 1)), mask };
  for (const n of names) feeds[n] = policy.get(n).data;
  const direct = await (await compile(g, outs)).run(feeds);

  // the weighted-NLL step with plain SGD, lr 1: p_new = p - grad
  const before = policy.clone();
  const step = await compileWeightedNllStep({ params: policy, model, batch: B, ctx: T, optimizer: sgd() });
  const r = await step.run(ids, weights, 1, 1);
  assert.ok(relErr(r.logprobs, lp) < 1e-6, 'step returns the pre-step log-probs');
  let worst = 0;
  for (const n of names) {
    const delta = before.get(n).data.map((v, i) => v - policy.get(n).data[i]);
    worst = Math.max(worst, relErr(delta, direct[n + '.grad'].data as Float32Array));
  }
  t.diagnostic(`h = ${h.toFixed(4)}, max rel err between the weighted-NLL step and the DPO gradient: ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-4, `weighted NLL step differs from the DPO gradient: ${worst}`);

  // log-probs = log_softmax(logits)[target], computed here in JS
  const ev = await compileEval({ params: before, inputs: { input_ids: { dtype: 'int64', shape: [B, T] } }, build: (sc, i) => ({ logits: lmLogits(sc, model, i.input_ids) }) });
  const logits = (await ev.run({ input_ids: ids })).logits.data as Float32Array;
  const V = 23;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < T - 1; i++) {
      const row = logits.subarray((b * T + i) * V, (b * T + i + 1) * V);
      const mx = Math.max(...row);
      const lse = mx + Math.log(row.reduce((acc, v) => acc + Math.exp(v - mx), 0));
      const want = row[Number(ids[b * T + i + 1])] - lse;
      assert.ok(Math.abs(lp[b * (T - 1) + i] - want) < 1e-5, `logprob[${b},${i}] ${lp[b * (T - 1) + i]} vs ${want}`);
    }
  }
});

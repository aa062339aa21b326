// GPT-2 and LLaMA tiny models: loss and every parameter gradient against PyTorch on identical
// weights and batch (golden fixtures from scripts/torch-ref/make_fixtures.py), relative error ≤ 1e-4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, Tensor } from '../../../src/core/graph/graph';
import { grad } from '../../../src/core/graph/autodiff';
import { compile } from '../../../src/core/runtime/session';
import { ParamScope } from '../../../src/core/nn/params';
import { gpt2Logits } from '../../../src/core/nn/gpt2';
import { llamaLogits } from '../../../src/core/nn/llama';
import { causalLmLoss } from '../../../src/core/nn/losses';
import { type TorchCase, fixtureExists, gpt2ConfigOf, llamaConfigOf, loadCase, relErr } from './fixtures';

async function lossAndGrads(c: TorchCase) {
  const g = new Graph();
  const ids = g.input('input_ids', 'int64', [c.B, c.T]);
  const labels = g.input('labels', 'int64', [c.B, c.T]);
  const s = new ParamScope(g, c.params);
  const before = c.params.count();
  const logits = c.config.family === 'gpt2' ? gpt2Logits(s, gpt2ConfigOf(c.config.model), ids) : llamaLogits(s, llamaConfigOf(c.config.model), ids);
  assert.equal(c.params.count(), before, 'the model must use exactly the fixture parameters (no new names)');
  const loss = causalLmLoss(logits, labels, c.config.ignore_index);
  const names = [...s.used.keys()];
  const grads = grad(loss, names.map((n) => s.used.get(n)!));
  const outs: Record<string, Tensor> = { loss, logits };
  names.forEach((n, i) => (outs[`grad.${n}`] = grads[i]));
  const prog = await compile(g, outs);
  const feeds: Record<string, Float32Array | BigInt64Array> = { input_ids: c.inputIds, labels: c.labels };
  for (const n of names) feeds[n] = c.params.get(n).data;
  const r = await prog.run(feeds);
  return { r, names };
}

for (const name of ['gpt2-tiny', 'llama-tiny']) {
  test(`${name}: loss, logits and every gradient match PyTorch (rel ≤ 1e-4)`, { skip: !fixtureExists(name) && 'fixture missing' }, async (t) => {
    const c = loadCase(name);
    const { r, names } = await lossAndGrads(c);
    assert.equal(names.length, c.config.params.length, 'every fixture parameter is used');
    const lossRef = c.read('loss.npy')[0];
    const loss = Number(r.loss.data[0]);
    assert.ok(Math.abs(loss - lossRef) / Math.abs(lossRef) <= 1e-4, `loss ${loss} vs torch ${lossRef}`);
    const le = relErr(r.logits.data as Float32Array, c.read('logits.npy'));
    assert.ok(le <= 1e-4, `logits rel err ${le}`);
    let worst = 0, worstName = '';
    for (const n of names) {
      const e = relErr(r[`grad.${n}`].data as Float32Array, c.read(`grad.${n}.npy`));
      if (e > worst) [worst, worstName] = [e, n];
    }
    t.diagnostic(`loss ${loss} vs torch ${lossRef}; logits rel err ${le.toExponential(2)}; worst gradient ${worstName} rel err ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-4, `worst gradient ${worstName}: rel err ${worst}`);
  });
}

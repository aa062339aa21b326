// Export → transformers.js (offline) interop, the KV-cache sampler, scoring, and import.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env, Tensor } from '@huggingface/transformers';
import { Rng } from '../../../src/core/rng';
import { loadBrown } from '../../../src/lab/lm/data/brown';
import { CausalLm } from '../../../src/lab/lm/causal-lm';
import { exportHfFolder, importHfFolder, writeSafetensors } from '../../../src/lab/lm/hf-folder';
import { llamaConfig } from '../../../src/lab/lm/llama/config';
import { initLlamaWeights } from '../../../src/lab/lm/llama/weights';
import { generate, generateStepwise, logSumExp, sampleToken, score, scoreUnder } from '../../../src/lab/lm/sampler';
import { trainByteLevelBpe, writeTokenizerFiles } from '../../../src/lab/lm/tokenizer/bpe-trainer';
import { referenceLogits } from './llama-reference';
import * as ort from 'onnxruntime-node';
import { buildSamplerOnnx } from '../../../src/lab/lm/onnx/sampler-onnx';

env.allowRemoteModels = false;
env.useFSCache = false;
(env as { fetch: unknown }).fetch = () => {
  throw new Error('network disabled in tests');
};

const root = mkdtempSync(join(tmpdir(), 'hf-export-'));
after(() => rmSync(root, { recursive: true, force: true }));

const tokDir = join(root, 'tok');
const bpe = trainByteLevelBpe(
  loadBrown()
    .slice(0, 10)
    .map((d) => d.sentences.join('\n')),
  { vocabSize: 300 },
);
writeTokenizerFiles(tokDir, bpe, { modelMaxLength: 64 });
const EOS = 298;
const config = llamaConfig({
  vocabSize: 300,
  hiddenSize: 32,
  intermediateSize: 48,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  maxPositions: 64,
  tieEmbeddings: false,
  bosTokenId: EOS,
  eosTokenId: EOS,
  padTokenId: 299,
});
const weights = initLlamaWeights(config, new Rng(3), 0.25);

function freshExport(name: string): string {
  const dir = join(root, name);
  exportHfFolder(dir, { config, weights, tokenizerDir: tokDir, generation: { max_new_tokens: 16 } });
  return dir;
}

test('export loads offline in transformers.js: logits match the reference to 1e-4, greedy generate() equals ours', async () => {
  const dir = freshExport('tjs');
  const tok = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  const model = await AutoModelForCausalLM.from_pretrained(dir, { local_files_only: true });
  const ids = tok.encode('The jury said') as number[];
  assert.equal(ids[0], EOS);
  const input_ids = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
  const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
  const out = await model({ input_ids, attention_mask });
  const ref = referenceLogits(config, weights, ids);
  const logits = out.logits.data as Float32Array;
  assert.deepEqual(out.logits.dims, [1, ids.length, 300]);
  let maxDiff = 0;
  for (let t = 0; t < ids.length; t++) for (let v = 0; v < 300; v++) maxDiff = Math.max(maxDiff, Math.abs(logits[t * 300 + v] - ref[t][v]));
  assert.ok(maxDiff < 1e-4, `max |logit diff| ${maxDiff}`);

  const theirs = (await model.generate({ input_ids, attention_mask, max_new_tokens: 12, do_sample: false })) as Tensor;
  const theirNew = Array.from(theirs.data as BigInt64Array, Number).slice(ids.length);
  const lm = await CausalLm.load(dir);
  const [ours] = await generate(lm, [ids], { maxNewTokens: 12, temperature: 0 });
  assert.deepEqual(ours.tokens, theirNew.slice(0, ours.tokens.length));
  if (ours.finishReason === 'length') assert.equal(ours.tokens.length, 12);
  await lm.dispose();
  await model.dispose();
});

test('KV-cache sampling: cached log-probs equal full-recompute scores; batches equal singles; seeds reproduce', async () => {
  const lm = await CausalLm.load(freshExport('ours'));
  const prompts = ['The', 'It was a long day in the city', 'He said that'].map((p) => lm.tokenizer.encodeWithSpecials(p));
  const stop = { stopTokens: [9999] }; // never emitted: rows run to maxNewTokens
  const batch = await generate(lm, prompts, { maxNewTokens: 10, temperature: 0, ...stop });
  for (let i = 0; i < prompts.length; i++) {
    const [single] = await generate(lm, [prompts[i]], { maxNewTokens: 10, temperature: 0, ...stop });
    assert.deepEqual(batch[i].tokens, single.tokens, `row ${i}`);
    for (let t = 0; t < 10; t++) assert.ok(Math.abs(batch[i].logprobs[t] - single.logprobs[t]) < 1e-4);
  }
  const sampled = await generate(lm, prompts, { maxNewTokens: 10, temperature: 1, topK: 50, topP: 0.95, seed: 11, ...stop });
  const scored = await score(lm, prompts, sampled.map((s) => s.tokens));
  for (let i = 0; i < prompts.length; i++) {
    assert.equal(sampled[i].tokens.length, 10);
    for (let t = 0; t < 10; t++) {
      assert.ok(Math.abs(sampled[i].logprobs[t] - scored[i].logprobs[t]) < 1e-4, `row ${i} token ${t}: ${sampled[i].logprobs[t]} vs ${scored[i].logprobs[t]}`);
      assert.ok(sampled[i].samplingLogprobs[t] >= sampled[i].logprobs[t] - 1e-9, 'filtering only raises probabilities');
    }
  }
  const again = await generate(lm, prompts, { maxNewTokens: 10, temperature: 1, topK: 50, topP: 0.95, seed: 11, ...stop });
  assert.deepEqual(
    again.map((g) => g.tokens),
    sampled.map((g) => g.tokens),
  );
  const other = await generate(lm, prompts, { maxNewTokens: 10, temperature: 1, seed: 12, ...stop });
  assert.notDeepEqual(
    other.map((g) => g.tokens),
    sampled.map((g) => g.tokens),
  );
  // Row streams are independent of the batch: row 0 alone with the same seed samples the same.
  const [alone] = await generate(lm, [prompts[0]], { maxNewTokens: 10, temperature: 1, topK: 50, topP: 0.95, seed: 11, ...stop });
  assert.deepEqual(alone.tokens, sampled[0].tokens);
  // Stop tokens end a row early and are reported.
  const stopAt = batch[1].tokens[3];
  const [stopped] = await generate(lm, [prompts[1]], { maxNewTokens: 10, temperature: 0, stopTokens: [stopAt] });
  assert.equal(stopped.finishReason, 'stop');
  assert.equal(stopped.tokens[stopped.tokens.length - 1], stopAt);
  assert.ok(stopped.tokens.length <= 4);
  // Policy and reference in one call.
  const both = await scoreUnder({ policy: lm, reference: lm }, prompts, sampled.map((s) => s.tokens));
  assert.deepEqual(both.policy, both.reference);
  await assert.rejects(generate(lm, prompts, { topP: 0 }), /topP: expected a number in \(0, 1\], got 0/);
  await assert.rejects(generate(lm, prompts, { maxNewTokens: 100 }), /exceeds the model's 64 positions/);
  await lm.dispose();
});

test('in-graph decode loop agrees with the stepwise JavaScript sampler and samples the right distribution', async () => {
  const lm = await CausalLm.load(freshExport('loop'));
  const prompts = ['The', 'It was a long day in the city'].map((p) => lm.tokenizer.encodeWithSpecials(p));
  const loop = await generate(lm, prompts, { maxNewTokens: 12, temperature: 0, stopTokens: [9999] });
  const steps = await generateStepwise(lm, prompts, { maxNewTokens: 12, temperature: 0, stopTokens: [9999] });
  for (let i = 0; i < prompts.length; i++) {
    assert.deepEqual(loop[i].tokens, steps[i].tokens);
    for (let t = 0; t < 12; t++) assert.ok(Math.abs(loop[i].logprobs[t] - steps[i].logprobs[t]) < 1e-4);
  }
  // The opset-18 (unfused) loop gives the same greedy tokens as the default opset-23 one.
  const unfused = await ort.InferenceSession.create(buildSamplerOnnx(config, weights, { kind: 'greedy' }, false));
  const p0 = prompts[1];
  const u = await unfused.run({
    input_ids: new ort.Tensor('int64', BigInt64Array.from(p0.map(BigInt)), [1, p0.length]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(p0.length).fill(1n), [1, p0.length]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from(p0.map((_, i) => BigInt(i))), [1, p0.length]),
    next_position: new ort.Tensor('int64', BigInt64Array.of(BigInt(p0.length)), [1, 1]),
    done: new ort.Tensor('bool', new Uint8Array(1), [1]),
    max_steps: new ort.Tensor('int64', BigInt64Array.of(12n), []),
    stop_ids: new ort.Tensor('int64', BigInt64Array.of(9999n), [1]),
  });
  assert.deepEqual(Array.from(u.tokens.data as BigInt64Array, Number), loop[1].tokens);
  await unfused.release();
  // First-token frequencies over 600 rows vs the model's top-3 distribution at temperature 0.7.
  const p = prompts[1];
  const pre = await lm.forward(BigInt64Array.from(p.map(BigInt)), 1, p.length, new BigInt64Array(p.length).fill(1n), BigInt64Array.from(p.map((_, i) => BigInt(i))), null, 1);
  const row = pre.logits.slice(0, 300);
  const top = Array.from(row.keys()).sort((a, b) => row[b] - row[a]).slice(0, 3);
  const scaled = Float32Array.from(top, (t) => row[t] / 0.7);
  const z = logSumExp(scaled);
  const n = 600;
  const gens = await generate(lm, Array.from({ length: n }, () => p), { maxNewTokens: 1, temperature: 0.7, topK: 3, seed: 5, stopTokens: [9999] });
  top.forEach((t, j) => {
    const freq = gens.filter((g) => g.tokens[0] === t).length / n;
    const prob = Math.exp(scaled[j] - z);
    assert.ok(Math.abs(freq - prob) < 4 * Math.sqrt((prob * (1 - prob)) / n) + 0.01, `token ${t}: ${freq} vs ${prob}`);
    const g = gens.find((x) => x.tokens[0] === t);
    if (g) assert.ok(Math.abs(g.samplingLogprobs[0] - Math.log(prob)) < 1e-4);
  });
  assert.equal(gens.filter((g) => !top.includes(g.tokens[0])).length, 0);
  // The loop stops as soon as every row has emitted a stop id.
  const first = loop[0].tokens[0];
  const early = await generate(lm, [prompts[0]], { maxNewTokens: 12, temperature: 0, stopTokens: [first] });
  assert.deepEqual(early[0].tokens, [first]);
  assert.equal(early[0].finishReason, 'stop');
  await lm.dispose();
});

test('sampleToken: top-k 1 is argmax; top-p keeps the nucleus; frequencies follow the distribution', () => {
  const row = Float32Array.from([0, 2, 1, Math.log(0.5) + 2, -5]);
  const rng = new Rng(0);
  for (let i = 0; i < 20; i++) assert.equal(sampleToken(row, { temperature: 1, topK: 1, topP: 1 }, rng).token, 1);
  // p ∝ [1, e^2, e, e^2/2, e^-5] = [.068, .499, .184, .249, .0005]: top-p 0.45 keeps only token 1, 0.6 keeps {1, 3}.
  for (let i = 0; i < 20; i++) assert.equal(sampleToken(row, { temperature: 1, topK: 0, topP: 0.45 }, rng).token, 1);
  for (let i = 0; i < 20; i++) assert.ok([1, 3].includes(sampleToken(row, { temperature: 1, topK: 0, topP: 0.6 }, rng).token));
  const counts = [0, 0, 0, 0, 0];
  const n = 20000;
  for (let i = 0; i < n; i++) counts[sampleToken(row, { temperature: 1, topK: 3, topP: 1 }, rng).token]++;
  const z = Math.exp(2) + Math.exp(1) + Math.exp(2) / 2;
  assert.ok(Math.abs(counts[1] / n - Math.exp(2) / z) < 0.02, JSON.stringify(counts));
  assert.ok(Math.abs(counts[3] / n - Math.exp(2) / 2 / z) < 0.02, JSON.stringify(counts));
  assert.equal(counts[0] + counts[4], 0);
});

test('import: round trip of our export (ONNX and safetensors) and clear errors', async () => {
  const dir = freshExport('import');
  const imported = importHfFolder(dir);
  assert.equal(imported.source, join(dir, 'onnx', 'model.onnx'));
  assert.deepEqual(imported.config, config);
  for (const [name, t] of weights) assert.deepEqual(imported.weights.get(name), t, name);
  // safetensors wins when present
  const st = join(root, 'st');
  cpSync(dir, st, { recursive: true });
  writeSafetensors(join(st, 'model.safetensors'), weights, config);
  const fromSt = importHfFolder(st);
  assert.equal(fromSt.source, join(st, 'model.safetensors'));
  for (const [name, t] of weights) assert.deepEqual(fromSt.weights.get(name), t, name);

  const broken = (name: string, edit: (d: string) => void) => {
    const d = join(root, name);
    cpSync(dir, d, { recursive: true });
    edit(d);
    return d;
  };
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.throws(
    () => importHfFolder(broken('gpt2', (d) => writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, model_type: 'gpt2' })))),
    /config\.json: model_type "gpt2" is not supported \(supported: "llama"\)/,
  );
  assert.throws(
    () => importHfFolder(broken('layers', (d) => writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 3 })))),
    /missing tensor model\.layers\.2\.input_layernorm\.weight \(expected shape \[32\]\)/,
  );
  assert.throws(
    () => importHfFolder(broken('shape', (d) => writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 64 })))),
    /tensor model\.layers\.0\.mlp\.gate_proj\.weight has shape \[48, 32\], expected \[64, 32\]/,
  );
  assert.throws(
    () => importHfFolder(broken('corrupt', (d) => writeFileSync(join(d, 'onnx', 'model.onnx'), Buffer.from('this is not protobuf at all \xff\xff\xff')))),
    /model\.onnx: not a valid ONNX model/,
  );
  assert.throws(() => importHfFolder(broken('badjson', (d) => writeFileSync(join(d, 'config.json'), '{"model_type": '))), /config\.json: not valid JSON/);
  assert.throws(
    () => importHfFolder(broken('heads', (d) => writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, num_key_value_heads: 3 })))),
    /num_attention_heads \(4\) must be a multiple of num_key_value_heads \(3\)/,
  );
  assert.throws(
    () =>
      importHfFolder(
        broken('st-short', (d) => {
          writeSafetensors(join(d, 'model.safetensors'), weights, config);
          const b = readFileSync(join(d, 'model.safetensors'));
          writeFileSync(join(d, 'model.safetensors'), b.subarray(0, b.length - 100));
        }),
      ),
    /model\.safetensors: not a readable safetensors file \(.*offsets/,
  );
  assert.throws(() => importHfFolder(join(root, 'nope')), /config\.json: not found/);
  // An imported folder can be exported again and gives the same model.
  const again = join(root, 'again');
  exportHfFolder(again, { config: imported.config, weights: imported.weights, tokenizerDir: dir });
  const a = await CausalLm.load(dir);
  const b = await CausalLm.load(again);
  const ids = [[EOS, 5, 6, 7]];
  const [sa] = await score(a, ids, [[8, 9]]);
  const [sb] = await score(b, ids, [[8, 9]]);
  assert.deepEqual(sa.logprobs, sb.logprobs);
  await a.dispose();
  await b.dispose();
});

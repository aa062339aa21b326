// The whole decoding loop as one ONNX model: an ONNX Loop whose body samples a token from the
// carried logits and runs one decoder step with the KV cache, so a batch of N new tokens costs one
// session.run instead of N (no per-token round trips between JavaScript and onnxruntime).
//
// Sampling in the graph is the Gumbel-max trick (argmax(l/T + g), g = -log(-log u)) over the
// top-k logits, after removing the tail outside the top-p nucleus; the uniforms u are an input,
// drawn by the caller from its seeded Rng, so runs are reproducible. Per step it also emits the
// token's log-prob under the model (temperature 1, no filtering) and under the sampling distribution.
import type { LlamaConfig, Weights } from '../llama/config';
import { checkLlamaWeights } from '../llama/weights';
import { ELEM, OnnxGraphBuilder } from './builder';
import { declareWeights, emitDecoder, emitLmHead } from './llama-onnx';

export type SamplerMode = { kind: 'greedy' } | { kind: 'sample'; k: number };

/** Zero-length cache tensors [B,Hkv,0,D] (the unfused decoder always reads a cache). */
function zeroCache(g: OnnxGraphBuilder, c: LlamaConfig, ids: string): { k: string; v: string }[] {
  const shape = g.o('Concat', [g.o('Shape', [ids], { start: 0, end: 1 }), g.ints([c.num_key_value_heads, 0, c.head_dim])], { axis: 0 });
  const z = g.o('ConstantOfShape', [shape], { value: { tensor: { dataType: ELEM.float32, dims: [1], rawData: new Uint8Array(4) } } });
  return Array.from({ length: c.num_hidden_layers }, () => ({ k: z, v: z }));
}

/**
 * Inputs: input_ids, attention_mask, position_ids [B,S] (the left-padded prompts), next_position
 * [B,1] (prompt lengths), done [B] bool, max_steps [] int64, stop_ids [S] int64, and for sampling
 * noise [N,B,k] (uniforms in (0,1)), temperature [], top_p [].
 * Outputs: tokens [n,B,1] int64, logprobs [n,B,1], sampling_logprobs [n,B,1] with n <= max_steps
 * (the loop ends early once every row has emitted a stop id). Prefill and loop run in one call.
 */
export function buildSamplerOnnx(c: LlamaConfig, weights: Weights, mode: SamplerMode, fused = true): Uint8Array {
  const w = checkLlamaWeights(c, weights, 'sampler');
  const V = c.vocab_size;
  const D = c.head_dim;
  const Hkv = c.num_key_value_heads;
  const L = c.num_hidden_layers;
  if (mode.kind === 'sample' && !(mode.k >= 1 && mode.k <= V)) throw new Error(`sampler: k must be in [1, ${V}], got ${mode.k}`);
  const g = new OnnxGraphBuilder();
  const promptIds = g.input('input_ids', ELEM.int64, ['batch', 'prompt_length']);
  const mask0 = g.input('attention_mask', ELEM.int64, ['batch', 'prompt_length']);
  const promptPos = g.input('position_ids', ELEM.int64, ['batch', 'prompt_length']);
  const pos0 = g.input('next_position', ELEM.int64, ['batch', 1]);
  const done0 = g.input('done', ELEM.bool, ['batch']);
  const maxSteps = g.input('max_steps', ELEM.int64, []);
  const stopIds = g.input('stop_ids', ELEM.int64, ['stops']);
  const noise = mode.kind === 'sample' ? g.input('noise', ELEM.float32, ['steps', 'batch', mode.k]) : '';
  const temperature = mode.kind === 'sample' ? g.input('temperature', ELEM.float32, []) : '';
  const topP = mode.kind === 'sample' ? g.input('top_p', ELEM.float32, []) : '';
  const refs = declareWeights(g, c, w, fused);
  // ---- prefill: the prompts' cache and the logits of their last position
  const prefill = emitDecoder(g, c, refs, { inputIds: promptIds, attnMask: mask0, positionIds: promptPos, past: fused ? [] : zeroCache(g, c, promptIds) }, fused);
  const lastHidden = g.o('Slice', [prefill.hidden, g.ints([-1]), g.ints([1 << 30]), g.ints([1])]);
  const logits0 = g.o('Squeeze', [emitLmHead(g, c, refs, lastHidden), g.ints([1])]);
  const past0 = prefill.presents;

  // ---- loop body
  const b = new OnnxGraphBuilder('body/');
  const iter = b.input('body/iter', ELEM.int64, []);
  b.input('body/cond', ELEM.bool, []);
  const logits = b.input('body/logits', ELEM.float32, ['batch', V]);
  const mask = b.input('body/mask', ELEM.int64, ['batch', 'length']);
  const pos = b.input('body/pos', ELEM.int64, ['batch', 1]);
  const done = b.input('body/done', ELEM.bool, ['batch']);
  const past: { k: string; v: string }[] = [];
  for (let i = 0; i < L; i++) {
    past.push({
      k: b.input(`body/past.${i}.key`, ELEM.float32, ['batch', Hkv, 'length', D]),
      v: b.input(`body/past.${i}.value`, ELEM.float32, ['batch', Hkv, 'length', D]),
    });
  }
  // 1. pick the next token from the carried logits
  const lse = b.o('ReduceLogSumExp', [logits, b.ints([-1])], { keepdims: 1 }); // [B,1]
  let token: string;
  let samplingLp: string;
  if (mode.kind === 'greedy') {
    token = b.o('ArgMax', [logits], { axis: -1, keepdims: 1 });
  } else {
    const [vals, idx] = b.op('TopK', [logits, b.ints([mode.k])], { axis: -1, largest: 1, sorted: 1 }, 2); // sorted, best first
    const scaled = b.o('Div', [vals, temperature]);
    // nucleus: keep a candidate while the mass strictly before it is < top_p
    const before = b.o('CumSum', [b.o('Softmax', [scaled], { axis: -1 }), b.ints([1], true)], { exclusive: 1 });
    const masked = b.o('Where', [b.o('Less', [before, topP]), scaled, b.scalar(-1e30)]);
    const u = b.o('Gather', [noise, iter], { axis: 0 }); // [B,k]
    const gumbel = b.o('Neg', [b.o('Log', [b.o('Neg', [b.o('Log', [u])])])]);
    const choice = b.o('ArgMax', [b.o('Add', [masked, gumbel])], { axis: -1, keepdims: 1 }); // [B,1]
    token = b.o('GatherElements', [idx, choice], { axis: 1 });
    samplingLp = b.o('GatherElements', [b.o('LogSoftmax', [masked], { axis: -1 }), choice], { axis: 1 });
  }
  const lp = b.o('Sub', [b.o('GatherElements', [logits, token], { axis: 1 }), lse]);
  if (mode.kind === 'greedy') samplingLp = b.o('Sub', [lp, lp]);
  // 2. stop bookkeeping: the loop continues while some row has not emitted a stop id
  const hit = b.o('Cast', [b.o('ReduceMax', [b.o('Cast', [b.o('Equal', [token, stopIds])], { to: 6 }), b.ints([1])], { keepdims: 0 })], { to: ELEM.bool });
  const doneNew = b.o('Or', [done, hit]);
  const allDone = b.o('Cast', [b.o('ReduceMin', [b.o('Cast', [doneNew], { to: 6 })], { keepdims: 0 })], { to: ELEM.bool });
  const condOut = b.o('Not', [allDone]);
  // 3. one decoder step on the new token
  const maskNew = b.o('Concat', [mask, b.o('Expand', [b.ints([1], true), b.o('Shape', [token])])], { axis: 1 });
  const { hidden, presents } = emitDecoder(b, c, refs, { inputIds: token, attnMask: maskNew, positionIds: pos, past }, fused);
  const logitsNew = b.o('Squeeze', [emitLmHead(b, c, refs, hidden), b.ints([1])]);
  const posNew = b.o('Add', [pos, b.ints([1], true)]);

  const outs: [string, string, number, (string | number)[]][] = [
    [condOut, 'body/cond_out', ELEM.bool, []],
    [logitsNew, 'body/logits_out', ELEM.float32, ['batch', V]],
    [maskNew, 'body/mask_out', ELEM.int64, ['batch', 'length1']],
    [posNew, 'body/pos_out', ELEM.int64, ['batch', 1]],
    [doneNew, 'body/done_out', ELEM.bool, ['batch']],
    ...presents.map((p, j): [string, string, number, (string | number)[]] => [p, `body/present.${j}`, ELEM.float32, ['batch', Hkv, 'length1', D]]),
    [token, 'body/token', ELEM.int64, ['batch', 1]],
    [lp, 'body/lp', ELEM.float32, ['batch', 1]],
    [samplingLp!, 'body/slp', ELEM.float32, ['batch', 1]],
  ];
  for (const [value, name, elem, dims] of outs) {
    b.alias(value, name);
    b.output(name, elem, dims);
  }

  // ---- outer graph: one Loop node
  const carriedOut = ['final_logits', 'final_mask', 'final_pos', 'final_done', ...presents.map((_, j) => `final_present.${j}`)];
  g.nodes.push({
    opType: 'Loop',
    name: 'decode_loop',
    input: [maxSteps, g.scalarBool(true), logits0, mask0, pos0, done0, ...past0],
    output: [...carriedOut, 'tokens', 'logprobs', 'sampling_logprobs'],
    attribute: [{ name: 'body', type: 5, g: b.graph('decode_step') }],
  });
  g.output('tokens', ELEM.int64, ['n', 'batch', 1]);
  g.output('logprobs', ELEM.float32, ['n', 'batch', 1]);
  g.output('sampling_logprobs', ELEM.float32, ['n', 'batch', 1]);
  return g.encode('llama_sampler', 'proxlab', fused ? 23 : undefined);
}

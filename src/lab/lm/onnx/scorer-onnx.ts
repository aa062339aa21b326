// Scoring graph: per-token log-probs of given sequences, computed inside onnxruntime (log-softmax
// and the gather of the next token), so a batch returns [B, T-1] numbers instead of [B, T, V]
// logits. Uses the opset-23 fused decoder without a cache.
import type { LlamaConfig, Weights } from '../llama/config';
import { checkLlamaWeights } from '../llama/weights';
import { ELEM, OnnxGraphBuilder } from './builder';
import { declareWeights, emitDecoder, emitLmHead } from './llama-onnx';

/**
 * Inputs: input_ids [B,T], attention_mask [B,T] (1 = real token; right padding), position_ids [B,T].
 * Output: token_logprobs [B,T-1], log p(input_ids[:, t+1] | input_ids[:, <=t]).
 */
export function buildScorerOnnx(c: LlamaConfig, weights: Weights): Uint8Array {
  const w = checkLlamaWeights(c, weights, 'scorer');
  const g = new OnnxGraphBuilder();
  const ids = g.input('input_ids', ELEM.int64, ['batch', 'length']);
  const mask = g.input('attention_mask', ELEM.int64, ['batch', 'length']);
  const pos = g.input('position_ids', ELEM.int64, ['batch', 'length']);
  const refs = declareWeights(g, c, w, true);
  const { hidden } = emitDecoder(g, c, refs, { inputIds: ids, attnMask: mask, positionIds: pos, past: [] }, true);
  const big = 1 << 30;
  const logits = emitLmHead(g, c, refs, g.o('Slice', [hidden, g.ints([0]), g.ints([-1]), g.ints([1])])); // [B,T-1,V]
  const next = g.o('Unsqueeze', [g.o('Slice', [ids, g.ints([1]), g.ints([big]), g.ints([1])]), g.ints([2])]); // [B,T-1,1]
  const lp = g.o('Squeeze', [g.o('GatherElements', [g.o('LogSoftmax', [logits], { axis: -1 }), next], { axis: 2 }), g.ints([2])]);
  g.alias(lp, 'token_logprobs');
  g.output('token_logprobs', ELEM.float32, ['batch', 'length_minus_1']);
  return g.encode('llama_scorer', 'proxlab', 23);
}

// Creating and checking named LLaMA weights (Hugging Face parameter names).
import type { Rng } from '../../../core/rng';
import { type LlamaConfig, llamaParamSpecs, type Weights } from './config';

/** GPT-2 style init: N(0, std^2) matrices, output projections scaled by 1/sqrt(2 * layers), norms at 1. */
export function initLlamaWeights(c: LlamaConfig, rng: Rng, std = 0.02): Weights {
  const w: Weights = new Map();
  const residualStd = std / Math.sqrt(2 * c.num_hidden_layers);
  for (const s of llamaParamSpecs(c)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const t = new Float32Array(n);
    if (s.kind === 'norm') t.fill(1);
    else rng.fillNormal(t, 0, /o_proj|down_proj/.test(s.name) ? residualStd : std);
    w.set(s.name, t);
  }
  return w;
}

/** Throws naming the first missing tensor or wrong shape; returns the weights restricted to the model's parameters. */
export function checkLlamaWeights(c: LlamaConfig, w: Weights, where: string): Weights {
  const out: Weights = new Map();
  for (const s of llamaParamSpecs(c)) {
    const t = w.get(s.name);
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (!t) throw new Error(`${where}: missing tensor ${s.name} (expected shape [${s.shape.join(', ')}])`);
    if (t.length !== n) throw new Error(`${where}: tensor ${s.name} has ${t.length} values, expected shape [${s.shape.join(', ')}] = ${n}`);
    out.set(s.name, t);
  }
  return out;
}

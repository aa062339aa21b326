/**
 * Tensor programs on onnxruntime: build a graph of symbolic tensors (static shapes), differentiate
 * it, emit ONNX, run it. Usage:
 *
 * ```ts
 * import { Graph, O, C, grad } from '../graph';          // O = primitive ops, C = composites
 * import { compile } from '../runtime';
 *
 * const g = new Graph();
 * const x = g.input('x', 'float32', [8, 16]);            // fed per run (batch, parameters, scalars)
 * const w = g.input('w', 'float32', [16, 4]);
 * const y = O.sum(O.mul(C.gelu(O.matmul(x, w)), 0.5));   // shapes checked as you build
 * const [dw] = grad(y, [w]);                              // appends the backward graph
 * const prog = await compile(g, { y, dw }, { threads: 2 }); // ONNX emission + cached ORT session
 * const out = await prog.run({ x: xData, w: wData });      // typed arrays in, ort.Tensor out
 * out.dw.data as Float32Array;
 * ```
 *
 * Gradients are graph tensors, so `grad` can be applied again (grad of grad). `O.stopGradient(t)`
 * treats t as a constant. Numbers mix freely with tensors (`O.mul(x, 0.5)`).
 *
 * Training: a whole step (forward, backward, clipping, optimizer) is one graph and one session.run:
 *
 * ```ts
 * import { ParamStore, lmLogits, causalLmLoss } from '../nn';
 * import { compileTrainStep, adamw, cosineSchedule } from '../optim';
 * const params = new ParamStore(new Rng(seed));                 // named Float32Arrays, HF names
 * const model = { family: 'gpt2', config: { vocabSize, nPositions: T, nEmbd, nLayer, nHead } } as const;
 * const step = await compileTrainStep({
 *   params,                                                     // declared + seeded on first build
 *   batch: { input_ids: { dtype: 'int64', shape: [B, T] } },
 *   loss: (s, b) => causalLmLoss(lmLogits(s, model, b.input_ids), b.input_ids),
 *   optimizer: adamw({ betas: [0.9, 0.95], weightDecay: 0.1 }),
 *   maxGradNorm: 1,
 *   runtime: { threads: 2, device: 'cpu' },
 * });
 * const lr = cosineSchedule(3e-4, total, warmup);
 * for (let t = 0; t < total; t++) await step.run({ input_ids }, { lr: lr(t) });  // -> { loss, gradNorm }
 * saveSafetensors('model.safetensors', params);
 * ```
 * After each run `params.get(name).data` holds the updated values in a new Float32Array (the one
 * ORT returned), so re-read `.data` after a step instead of keeping an old reference.
 *
 * Alignment methods (specs/alignment.md §0.3) use nn/lm.ts: `compileLogProbs` (per-token
 * log-probs of given sequences under a store) and `compileWeightedNllStep` (one step on
 * -Σ w·ℓ / Z with per-token weights computed in TS). Eval-only graphs: `compileEval`.
 */
export * from './graph';
export * as O from './ops';
export * as C from './composite';
export { grad, sumTo, defineVjp, type GradOptions } from './autodiff';
export { emitOnnx, OPSET, type EmitResult } from './onnx';

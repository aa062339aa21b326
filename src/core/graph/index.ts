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
 * Training: a whole step (forward, backward, optimizer) is one graph and one `session.run`:
 *
 * ```ts
 * import { ParamStore, gpt2 } from '../nn';
 * import { compileTrainStep, adamw, cosineSchedule } from '../optim';
 * const params = new ParamStore();
 * const model = gpt2.build(params, cfg, seed);              // HF parameter names, seeded init
 * const step = await compileTrainStep({
 *   params,
 *   batch: { input_ids: ['int64', [B, T]], labels: ['int64', [B, T]] },
 *   loss: (g, p, batch) => crossEntropy(model.forward(p, batch.input_ids), batch.labels),
 *   optimizer: adamw({ weightDecay: 0.1 }),
 * });
 * for (...) { const { loss } = await step.run({ input_ids, labels }, { lr: schedule(t) }); }
 * ```
 * After each run the store's Float32Arrays hold the updated parameters (ping-pong buffers:
 * ORT writes the new values into preallocated outputs; nothing is copied between steps).
 */
export * from './graph';
export * as O from './ops';
export * as C from './composite';
export { grad, sumTo, defineVjp, type GradOptions } from './autodiff';
export { emitOnnx, OPSET, type EmitResult } from './onnx';

// A whole training step — forward, backward, gradient clipping and the optimizer update — as one
// ONNX graph run by one session.run. Parameter and optimizer-state buffers are fed as inputs
// without a copy (ORT wraps the Float32Arrays), and the updated tensors ORT returns become the
// store's buffers for the next step ('adopt'), so nothing is copied in JS. What ORT allows: the
// Node binding (1.30) has no IO binding and copies every CPU output into a fresh ArrayBuffer, even
// into a preallocated fetch ('into' mode, kept: ORT writes into our buffer, then the binding still
// copies) — one copy of params + state per step, measured at 2-7% of a step (bench/train.bench.ts
// `ours_params_io`). With placement 'js' the graph stops at the gradients and the update runs as a
// vectorized loop outside; in the bench (alternating steps) the in-graph update was faster.
import type * as ort from 'onnxruntime-node';
import { type DType, Graph, Tensor, GraphError } from '../graph/graph';
import { grad } from '../graph/autodiff';
import { ParamScope, ParamStore } from '../nn/params';
import { type Feed, type Program, type RuntimeOptions, compile } from '../runtime/session';
import { clipByGlobalNorm, clipByGlobalNormInPlace } from './clip';
import type { Optimizer } from './optimizer';

export type BatchSpec = Record<string, { dtype: DType; shape: readonly number[] }>;

export interface LossResult {
  loss: Tensor;
  /** Extra tensors to return each step (e.g. per-token log-probs, metrics). */
  outputs?: Record<string, Tensor>;
}

export interface TrainStepOptions {
  params: ParamStore;
  batch: BatchSpec;
  loss: (s: ParamScope, batch: Record<string, Tensor>) => Tensor | LossResult;
  optimizer: Optimizer;
  /** Parameters to update (default: all used by the loss). */
  trainable?: (name: string) => boolean;
  /** Clip gradients to this global L2 norm (default: no clipping). */
  maxGradNorm?: number;
  /** Where the optimizer runs: inside the step graph (default) or as a JS loop outside. */
  placement?: 'graph' | 'js';
  runtime?: RuntimeOptions;
  /**
   * How updated parameters/state come back: 'adopt' (default) keeps the arrays ORT returns as the
   * new buffers; 'into' preallocates spare buffers for ORT to write into and swaps them. Both avoid
   * copying in JS; onnxruntime-node still copies each output once, and 'into' measured slower.
   */
  outputMode?: 'adopt' | 'into';
}

export interface StepResult {
  loss: number;
  /** Global gradient norm before clipping (when maxGradNorm is set). */
  gradNorm?: number;
  outputs: Record<string, ort.Tensor>;
}

export class TrainStep {
  /** Completed optimizer steps. */
  step = 0;
  /** Optimizer state per parameter and slot (current buffers). */
  readonly state = new Map<string, Record<string, Float32Array>>();
  private spareParam = new Map<string, Float32Array>();
  private spareState = new Map<string, Record<string, Float32Array>>();

  constructor(
    readonly program: Program,
    readonly params: ParamStore,
    readonly trainable: string[],
    readonly frozen: string[],
    readonly optimizer: Optimizer,
    readonly placement: 'graph' | 'js',
    readonly maxGradNorm: number | undefined,
    readonly extraOutputs: string[],
    readonly outputMode: 'adopt' | 'into' = 'adopt',
  ) {
    for (const name of trainable) {
      const n = params.get(name).data.length;
      const st: Record<string, Float32Array> = {};
      for (const k of optimizer.stateNames) st[k] = new Float32Array(n);
      this.state.set(name, st);
      if (placement === 'graph' && outputMode === 'into') {
        this.spareParam.set(name, new Float32Array(n));
        const sp: Record<string, Float32Array> = {};
        for (const k of optimizer.stateNames) sp[k] = new Float32Array(n);
        this.spareState.set(name, sp);
      }
    }
  }

  /** One optimizer step on a batch at learning rate `lr`. */
  async run(batch: Record<string, Feed>, opts: { lr: number }): Promise<StepResult> {
    const t = this.step + 1;
    const scalars = this.optimizer.scalars(t, opts.lr);
    const feeds: Record<string, Feed> = { ...batch };
    for (const name of [...this.trainable, ...this.frozen]) feeds[name] = this.params.get(name).data;
    const into: Record<string, Feed> = {};
    if (this.placement === 'graph') {
      for (const [k, v] of Object.entries(scalars)) feeds[`opt.${k}`] = Float32Array.of(v);
      for (const name of this.trainable) {
        const st = this.state.get(name)!;
        for (const k of this.optimizer.stateNames) feeds[`state.${k}.${name}`] = st[k];
        if (this.outputMode === 'into') {
          const sp = this.spareState.get(name)!;
          into[`new.${name}`] = this.spareParam.get(name)!;
          for (const k of this.optimizer.stateNames) into[`new.state.${k}.${name}`] = sp[k];
        }
      }
    }
    const res = await this.program.run(feeds, into);
    let gradNorm: number | undefined;
    if (this.placement === 'graph' && this.outputMode === 'adopt') {
      // the arrays ORT returned become the current parameter and state buffers
      for (const name of this.trainable) {
        this.params.swap(name, res[`new.${name}`].data as Float32Array);
        const st = this.state.get(name)!;
        for (const k of this.optimizer.stateNames) st[k] = res[`new.state.${k}.${name}`].data as Float32Array;
      }
      if (this.maxGradNorm !== undefined) gradNorm = Number(res.grad_norm.data[0]);
    } else if (this.placement === 'graph') {
      // swap: the freshly written buffers become current, the old ones the next step's outputs
      for (const name of this.trainable) {
        this.spareParam.set(name, this.params.swap(name, this.spareParam.get(name)!));
        const st = this.state.get(name)!;
        const sp = this.spareState.get(name)!;
        for (const k of this.optimizer.stateNames) [st[k], sp[k]] = [sp[k], st[k]];
      }
      if (this.maxGradNorm !== undefined) gradNorm = Number(res.grad_norm.data[0]);
    } else {
      const grads = this.trainable.map((n) => res[`grad.${n}`].data as Float32Array);
      if (this.maxGradNorm !== undefined) gradNorm = clipByGlobalNormInPlace(grads, this.maxGradNorm);
      this.trainable.forEach((name, i) => this.optimizer.updateInPlace(this.params.get(name).data, grads[i], this.state.get(name)!, scalars, name));
    }
    this.step = t;
    const outputs: Record<string, ort.Tensor> = {};
    for (const k of this.extraOutputs) outputs[k] = res[k];
    return { loss: Number(res.loss.data[0]), gradNorm, outputs };
  }
}

/** Build, differentiate and compile the training step graph. */
export async function compileTrainStep(o: TrainStepOptions): Promise<TrainStep> {
  const g = new Graph();
  const batch: Record<string, Tensor> = {};
  for (const [name, spec] of Object.entries(o.batch)) batch[name] = g.input(name, spec.dtype, spec.shape);
  const scope = new ParamScope(g, o.params);
  const r = o.loss(scope, batch);
  const { loss, outputs: extra = {} } = r instanceof Tensor ? { loss: r, outputs: {} } : r;
  if (loss.size !== 1) throw new GraphError(`compileTrainStep: loss must be a scalar, got ${loss}`);
  const used = [...scope.used.keys()];
  const trainable = used.filter((n) => (o.trainable ? o.trainable(n) : true));
  const frozen = used.filter((n) => !trainable.includes(n));
  if (trainable.length === 0) throw new GraphError('compileTrainStep: no trainable parameters');
  const pt = trainable.map((n) => scope.used.get(n)!);
  let grads = grad(loss, pt);
  const outs: Record<string, Tensor> = { loss };
  if (o.maxGradNorm !== undefined && (o.placement ?? 'graph') === 'graph') {
    const c = clipByGlobalNorm(grads, o.maxGradNorm);
    grads = c.grads;
    outs.grad_norm = c.norm;
  }
  const placement = o.placement ?? 'graph';
  if (placement === 'graph') {
    const sc: Record<string, Tensor> = {};
    for (const k of Object.keys(o.optimizer.scalars(1, 1))) sc[k] = g.input(`opt.${k}`, 'float32', []);
    trainable.forEach((name, i) => {
      const st: Record<string, Tensor> = {};
      for (const k of o.optimizer.stateNames) st[k] = g.input(`state.${k}.${name}`, 'float32', pt[i].shape);
      const u = o.optimizer.update(pt[i], grads[i], st, sc, name);
      outs[`new.${name}`] = u.param;
      for (const k of o.optimizer.stateNames) outs[`new.state.${k}.${name}`] = u.state[k];
    });
  } else {
    trainable.forEach((name, i) => (outs[`grad.${name}`] = grads[i]));
  }
  for (const [k, t] of Object.entries(extra)) {
    if (outs[k]) throw new GraphError(`compileTrainStep: extra output name '${k}' is reserved`);
    outs[k] = t;
  }
  const program = await compile(g, outs, o.runtime);
  return new TrainStep(program, o.params, trainable, frozen, o.optimizer, placement, o.maxGradNorm, Object.keys(extra), o.outputMode ?? 'adopt');
}

export interface EvalProgram {
  program: Program;
  paramNames: string[];
  run(inputs: Record<string, Feed>): Promise<Record<string, ort.Tensor>>;
}

/** A forward-only program (log-probs, logits, metrics) fed with the store's current parameters. */
export async function compileEval(o: {
  params: ParamStore;
  inputs: BatchSpec;
  build: (s: ParamScope, inputs: Record<string, Tensor>) => Record<string, Tensor>;
  runtime?: RuntimeOptions;
}): Promise<EvalProgram> {
  const g = new Graph();
  const ins: Record<string, Tensor> = {};
  for (const [name, spec] of Object.entries(o.inputs)) ins[name] = g.input(name, spec.dtype, spec.shape);
  const scope = new ParamScope(g, o.params);
  const outs = o.build(scope, ins);
  const program = await compile(g, outs, o.runtime);
  const paramNames = [...scope.used.keys()];
  return {
    program,
    paramNames,
    run: (inputs) => {
      const feeds: Record<string, Feed> = { ...inputs };
      for (const n of paramNames) feeds[n] = o.params.get(n).data;
      return program.run(feeds);
    },
  };
}

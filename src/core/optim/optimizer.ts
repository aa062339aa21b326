// The optimizer contract: one update rule written twice, as graph ops (run inside the training
// step's ONNX graph) and as a vectorized in-place loop over Float32Arrays (run outside it).
import { Tensor } from '../graph/graph';

export interface Optimizer {
  readonly name: string;
  /** Per-parameter state slots (PyTorch names, e.g. exp_avg, exp_avg_sq), zero-initialized. */
  readonly stateNames: readonly string[];
  /** Per-step scalars (fed to the graph as float32 inputs) for 1-based step t and learning rate. */
  scalars(step: number, lr: number): Record<string, number>;
  /** Graph form: new parameter and state tensors. */
  update(param: Tensor, grad: Tensor, state: Record<string, Tensor>, scalars: Record<string, Tensor>, name: string): { param: Tensor; state: Record<string, Tensor> };
  /** In-place form over typed arrays. */
  updateInPlace(param: Float32Array, grad: Float32Array, state: Record<string, Float32Array>, scalars: Record<string, number>, name: string): void;
}

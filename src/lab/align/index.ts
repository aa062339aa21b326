// Experiments of this area, registered in src/lab/runs/registry.ts.
import type { Experiment } from '../../core/experiment';

export const experiments: Experiment[] = [];

// Solver experiments of this group, registered in src/lab/runs/registry.ts.
import type { Experiment } from '../experiment';

export const experiments: Experiment[] = [];

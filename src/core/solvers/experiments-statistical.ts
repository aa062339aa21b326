// Solver experiments of this group, registered in src/lab/runs/registry.ts.
import type { Experiment } from '../experiment';
import { topoNotearsExperiment } from './topo-notears';

export const experiments: Experiment[] = [topoNotearsExperiment];

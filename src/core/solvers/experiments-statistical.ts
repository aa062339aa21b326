// Solver experiments of this group, registered in src/lab/runs/registry.ts.
import type { Experiment } from '../experiment';
import { topoNotearsExperiment } from './topo-notears';
import { prosperBscExperiment } from './prosper-bsc';
import { prosperMcaExperiment } from './prosper-mca';
import { prosperTscExperiment } from './prosper-tsc';
import { prosperDscExperiment } from './prosper-dsc';
import { prosperGscExperiment } from './prosper-gsc';
import { nonconvexPenaltiesExperiment } from './nonconvex-penalties';

export const experiments: Experiment[] = [
  topoNotearsExperiment,
  prosperBscExperiment,
  prosperMcaExperiment,
  prosperTscExperiment,
  prosperDscExperiment,
  prosperGscExperiment,
  nonconvexPenaltiesExperiment,
];

// Experiments of this area, registered in src/lab/runs/registry.ts.
import type { Experiment } from '../../core/experiment';
import { nashMdExperiment } from './nash-md';
import { nashMpExperiment } from './nash-mp';

export const experiments: Experiment[] = [nashMpExperiment, nashMdExperiment];

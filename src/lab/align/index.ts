// Experiments of this area, registered in src/lab/runs/registry.ts.
import type { Experiment } from '../../core/experiment';
import { apoExperiment } from './apo';
import { dpoExperiment } from './dpo';
import { nashMdExperiment } from './nash-md';
import { nashMpExperiment } from './nash-mp';
import { p3oExperiment } from './p3o';

export const experiments: Experiment[] = [dpoExperiment, apoExperiment, p3oExperiment, nashMpExperiment, nashMdExperiment];

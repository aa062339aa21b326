// Solver experiments of this group, registered in src/lab/runs/registry.ts.
import type { Experiment } from '../experiment';
import { bilevelPenaltyExperiment } from './bilevel-penalty';
import { boRepExperiment } from './bo-rep';
import { bsvrbExperiment } from './bsvrb';
import { lvHbaExperiment } from './lv-hba';
import { niwMetaExperiment } from './niw-meta';

export const experiments: Experiment[] = [lvHbaExperiment, bilevelPenaltyExperiment, boRepExperiment, bsvrbExperiment, niwMetaExperiment];

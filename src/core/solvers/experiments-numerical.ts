// Solver experiments of this group, registered in src/lab/runs/registry.ts.
import type { Experiment } from '../experiment';
import { adaSketchExperiment } from './adasketch-newton';
import { cboExperiment } from './cbo';
import { sinkhornSnsExperiment } from './sinkhorn-sns';
import { sorBanditExperiment } from './sor-bandit';
import { vrHalpernExperiment } from './vr-halpern';

export const experiments: Experiment[] = [cboExperiment as unknown as Experiment, sorBanditExperiment as unknown as Experiment, sinkhornSnsExperiment as unknown as Experiment, vrHalpernExperiment as unknown as Experiment, adaSketchExperiment as unknown as Experiment];

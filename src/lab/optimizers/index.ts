// Experiments of this area, registered in src/lab/runs/registry.ts.
import type { Experiment } from '../../core/experiment';
import { convexReluAdmm } from './convex-relu-admm';
import { directionalAttacks } from './directional-attacks';
import { fedspeed } from './fedspeed';
import { jlcm } from './jlcm';
import { lastIterateSgd } from './last-iterate-sgd';
import { lpn } from './lpn';
import { lrRefine } from './lr-refine';
import { normalizedLrgd } from './normalized-lrgd';
import { harpg, npgIgt } from './npg-harpg';
import { rootExperiment } from './root';
import { wgsef } from './wgsef';

export const experiments: Experiment[] = [normalizedLrgd, lastIterateSgd, wgsef, convexReluAdmm, lrRefine, directionalAttacks, npgIgt, harpg, rootExperiment, lpn, fedspeed, jlcm];

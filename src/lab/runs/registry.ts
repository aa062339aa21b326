// The experiment registry: every method of the lab, by id.
import type { Experiment } from '../../core/experiment';
import { experiments as numerical } from '../../core/solvers/experiments-numerical';
import { experiments as bilevel } from '../../core/solvers/experiments-bilevel';
import { experiments as statistical } from '../../core/solvers/experiments-statistical';
import { experiments as optimizers } from '../optimizers';
import { experiments as alignment } from '../align';
import { experiments as rl } from '../rl';
import { selftestExperiment } from './selftest';

const all: Experiment[] = [...alignment, ...rl, ...numerical, ...bilevel, ...statistical, ...optimizers, selftestExperiment];

const byId = new Map<string, Experiment>();
for (const e of all) {
  if (byId.has(e.id)) throw new Error(`duplicate experiment id '${e.id}'`);
  byId.set(e.id, e);
}

/** Every user-facing experiment (ids starting with '_' are diagnostics, hidden here). */
export function listExperiments(): Experiment[] {
  return [...byId.values()].filter((e) => !e.id.startsWith('_'));
}

export function getExperiment(id: string): Experiment | undefined {
  return byId.get(id);
}

// The part of a RunContext that a solver comparison reports to (metrics, progress, cancellation),
// so that claim checks can run the same code with only an AbortSignal behind it.
import type { RunContext } from '../experiment';

export type RunReporter = Pick<RunContext<unknown>, 'log' | 'progress' | 'throwIfCancelled'>;

/** A reporter that discards metrics and progress and throws once `signal` is aborted. */
export function signalReporter(signal?: AbortSignal): RunReporter {
  return {
    log() {},
    progress() {},
    throwIfCancelled() {
      if (signal?.aborted) throw new Error('claim check cancelled');
    },
  };
}

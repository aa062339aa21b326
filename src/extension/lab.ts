// Lazy access to the lab (run store, runner, registry, config). Activation loads none of it: in the
// packaged extension the lab is its own bundle, dist/lab.js, required on first use; from source
// (unit tests under tsx) the same modules are imported directly.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

type LabApi = typeof import('../lab/api');
let loading: Promise<LabApi> | undefined;

function loadLab(): Promise<LabApi> {
  if (!loading) {
    const bundled = join(__dirname, 'lab.js');
    // A non-literal specifier keeps esbuild from inlining the lab into dist/extension.js.
    const fromSource = '../lab/api';
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS bundle beside this one, resolved at run time
    loading = existsSync(bundled) ? Promise.resolve(require(bundled) as LabApi) : (import(fromSource) as Promise<LabApi>);
  }
  return loading;
}

export const lab = {
  store: async () => (await loadLab()).store,
  runner: async () => (await loadLab()).runner,
  config: async () => (await loadLab()).config,
  registry: async () => (await loadLab()).registry,
  methods: async () => (await loadLab()).methods,
  claims: async () => (await loadLab()).claims,
};

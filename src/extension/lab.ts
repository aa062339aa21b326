// Lazy access to the lab (run store, runner, registry, config). Activation imports none of it:
// the registry pulls in every experiment, so each handler loads what it needs on first use.
// esbuild keeps these modules in dist/extension.js but evaluates them only when imported.
export const lab = {
  store: () => import('../lab/runs/store'),
  runner: () => import('../lab/runs/runner'),
  config: () => import('../lab/runs/config'),
  registry: () => import('../lab/runs/registry'),
  methods: () => import('../lab/runs/methods'),
  claims: () => import('../lab/runs/claims'),
};

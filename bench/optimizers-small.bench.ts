// Full-form claim checks of the small optimizer experiments (normalized-lrgd, last-iterate-sgd, wgsef,
// convex-relu-admm, lr-refine, directional-attacks, npg-igt, harpg), ≥ 3 seeds each, one JSON line per
// experiment with the measured figures and method-over-baseline ratios.
// Usage: npm run bench -- optimizers-small [-- --seeds 0,1,2 --only id,id]
import { experiments } from '../src/lab/optimizers';
import { benchArgs, runFullClaims } from './lib';

const OURS = ['normalized-lrgd', 'last-iterate-sgd', 'wgsef', 'convex-relu-admm', 'lr-refine', 'directional-attacks', 'npg-igt', 'harpg'];

/** Method-over-baseline ratios from a claim's measured figures (lower is better unless named otherwise). */
function ratios(id: string, m: Record<string, number | string | boolean>): Record<string, number> {
  const n = (k: string) => Number(m[k]);
  const pick = (re: RegExp) => Object.keys(m).filter((k) => re.test(k));
  switch (id) {
    case 'normalized-lrgd':
      return Object.fromEntries(pick(/^median_iter_ratio/).map((k) => [k.replace('median_iter_ratio', 'iters_normalized_over_lrgd'), n(k)]));
    case 'last-iterate-sgd':
      return Object.fromEntries(pick(/_last_slope_mean$/).map((k) => [k.replace('_mean', ''), n(k)]));
    case 'wgsef':
      return {
        test_mse_wgsef_over_group_lasso: n('squared_wgsef_median') / n('squared_group_lasso_median'),
        accuracy_wgsef_minus_group_lasso: n('logistic_wgsef_median') - n('logistic_group_lasso_median'),
        ...Object.fromEntries(pick(/^mlp_k\d+_wgsef_accuracy_mean$/).map((k) => [k.replace('_wgsef_accuracy_mean', '_accuracy_wgsef_minus_group_lasso'), n(k) - n(k.replace('wgsef', 'group_lasso'))])),
      };
    case 'convex-relu-admm': {
      const seeds = pick(/_admm_network_objective$/).map((k) => k.split('_')[0]);
      return Object.fromEntries(seeds.map((s) => [`${s}_objective_admm_over_best_sgd`, n(`${s}_admm_network_objective`) / n(`${s}_sgd_best_objective`)]));
    }
    case 'lr-refine':
      return { log_loss_linear_over_cosine: n('mean_log_ratio_linear_over_cosine'), log_loss_refined_over_linear: n('mean_log_ratio_refined_over_linear') };
    case 'directional-attacks':
      return { best_f_hybrid_minus_cdsm: n('mean_hybrid') - n('mean_cdsm'), best_f_hybrid_minus_attack: n('mean_hybrid') - n('mean_attack') };
    default: {
      const method = id === 'npg-igt' ? 'npg-igt' : 'n-harpg';
      return Object.fromEntries(pick(new RegExp(`_${method}_mean_gap$`)).map((k) => [k.replace(`_${method}_mean_gap`, '_gap_method_over_vanilla'), n(k) / n(k.replace(method, 'vanilla'))]));
    }
  }
}

async function main() {
  const { seeds, only } = benchArgs();
  const failures = await runFullClaims('optimizers-small', experiments.filter((e) => OURS.includes(e.id)), { seeds, only, figures: (id, m) => ({ ratios: ratios(id, m) }) });
  process.exitCode = failures ? 1 : 0;
}
void main();

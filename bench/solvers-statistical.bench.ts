// Full-form claim checks of the statistical-learning solver group (topo-notears, prosper-*, nonconvex-penalties),
// ≥ 3 seeds each, one JSON line per experiment with the measured figures and the method/baseline ratios.
// Usage: npm run bench -- solvers-statistical [-- --seeds 0,1,2 --only id,id]
import { experiments } from '../src/core/solvers/experiments-statistical';
import { benchArgs, runFullClaims } from './lib';

/** Method-over-anchor ratios from a claim's measured figures (lower is better for scores and costs). */
function ratios(id: string, m: Record<string, number | string | boolean>): Record<string, number> {
  const n = (k: string) => Number(m[k]);
  if (id === 'topo-notears') return { score_topo_over_notears: n('topo_score') / n('notears_score'), shd_topo_minus_notears: n('topo_shd') - n('notears_shd') };
  if (id === 'nonconvex-penalties') {
    return {
      matvecs_ncg_over_ista_scad: n('ncg_scad_matvecs') / n('ista_scad_matvecs'),
      matvecs_ncg_over_ista_mcp: n('ncg_mcp_matvecs') / n('ista_mcp_matvecs'),
      l2_error_mcp_over_lasso: n('ncg_mcp_l2_error') / n('lasso_l2_error'),
      nonlinear_recall_mi_minus_pearson: n('mi_recall_nonlinear') - n('pearson_recall_nonlinear'),
    };
  }
  return { match_over_l1_sc: n(`${id}_match`) / n('l1_sc_match'), match_over_nmf: n(`${id}_match`) / n('nmf_match') };
}

async function main() {
  const { seeds, only } = benchArgs();
  const failures = await runFullClaims('solvers-statistical', experiments, { seeds, only, figures: (id, m) => ({ ratios: ratios(id, m) }) });
  process.exitCode = failures ? 1 : 0;
}
void main();

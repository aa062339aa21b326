// The 41 papers of Prox Lab (shared/METHODS.md): id(s), kind and spec section per paper.
// Status per method is derived: 'not yet' (no experiment), 'runs' (registered), 'claim reproduced'
// (its claim check passed in the last `proxlab claims`, stored in <runsDir>/claims.json).
import type { ExperimentKind } from '../../core/experiment';

export interface MethodEntry {
  n: number;
  paper: string;
  ids: string[];
  kind: ExperimentKind;
  spec: string;
}

export const METHODS: MethodEntry[] = [
  { n: 1, paper: 'Accelerated Preference Optimization (APO; with DPO, iterative DPO)', ids: ['dpo', 'apo'], kind: 'alignment', spec: 'alignment.md §1' },
  { n: 2, paper: 'Nash learning via Mirror Prox (Nash-MP; Nash-MD baseline)', ids: ['nash-mp', 'nash-md'], kind: 'alignment', spec: 'alignment.md §2' },
  { n: 3, paper: 'ReMax', ids: ['remax'], kind: 'alignment', spec: 'alignment.md §3' },
  { n: 4, paper: 'Iterative self-training for code via reinforced re-ranking (RewardRanker)', ids: ['reranker-ppo'], kind: 'alignment', spec: 'alignment.md §4' },
  { n: 5, paper: 'Bootstrapping task spaces for self-improvement (ExIt)', ids: ['exit'], kind: 'alignment', spec: 'alignment.md §5' },
  { n: 6, paper: 'ProRAG: process-supervised RL for RAG (PRM-guided)', ids: ['prorag'], kind: 'alignment', spec: 'alignment.md §6' },
  { n: 7, paper: 'Pairwise PPO (P3O)', ids: ['p3o'], kind: 'alignment', spec: 'alignment.md §7, rl.md' },
  { n: 8, paper: 'Leave-one-out PPO (LOOP)', ids: ['loop'], kind: 'alignment', spec: 'alignment.md §8, rl.md §9' },
  { n: 9, paper: 'Proximal reward difference prediction (PRDP)', ids: ['prdp'], kind: 'rl', spec: 'rl.md §8' },
  { n: 10, paper: 'Truncated PPO (T-PPO, extended GAE)', ids: ['t-ppo'], kind: 'rl', spec: 'rl.md §4' },
  { n: 11, paper: 'On-policy PG without on-policy sampling (PROPS)', ids: ['props'], kind: 'rl', spec: 'rl.md §5' },
  { n: 12, paper: 'Polychromic objectives', ids: ['polychromic'], kind: 'rl', spec: 'rl.md §3' },
  { n: 13, paper: 'PolicyFlow (CNF policies)', ids: ['policyflow'], kind: 'rl', spec: 'rl.md §2' },
  { n: 14, paper: 'Post-decision PPO with dual critics (PDPPO)', ids: ['pdppo'], kind: 'rl', spec: 'rl.md §1' },
  { n: 15, paper: 'Hyperbolic deep RL (Hyper++)', ids: ['hyperpp'], kind: 'rl', spec: 'rl.md §6' },
  { n: 16, paper: 'GNN + RL dispatching rules for the blocking job shop (ISBJSSP)', ids: ['jobshop-gnn'], kind: 'rl', spec: 'rl.md §7' },
  { n: 17, paper: 'Stochastic PG for Fisher-non-degenerate policies (N-PG-IGT, HARPG)', ids: ['npg-igt', 'harpg'], kind: 'rl', spec: 'optimizers.md §24' },
  { n: 18, paper: 'LLMs as sparse retrievers (PROSPER)', ids: ['prosper-retriever'], kind: 'alignment', spec: 'rl.md §10' },
  { n: 19, paper: 'Gradient is all you need? (consensus-based optimization)', ids: ['cbo'], kind: 'solver', spec: 'optimizers.md §1' },
  { n: 20, paper: 'ROOT robust orthogonalized optimizer (vs Muon, AdamW)', ids: ['root'], kind: 'optimizer', spec: 'optimizers.md §2' },
  { n: 21, paper: 'Learning to Relax (SOR ω by bandits)', ids: ['sor-bandit'], kind: 'solver', spec: 'optimizers.md §3' },
  { n: 22, paper: 'Sinkhorn-Newton-Sparse', ids: ['sinkhorn-sns'], kind: 'solver', spec: 'optimizers.md §4' },
  { n: 23, paper: 'Variance-reduced Halpern iteration', ids: ['vr-halpern'], kind: 'solver', spec: 'optimizers.md §5' },
  { n: 24, paper: 'LV-HBA constrained bilevel', ids: ['lv-hba'], kind: 'solver', spec: 'optimizers.md §6' },
  { n: 25, paper: 'Penalty methods for nonconvex bilevel', ids: ['bilevel-penalty'], kind: 'solver', spec: 'optimizers.md §7' },
  { n: 26, paper: 'BO-REP bilevel under unbounded smoothness', ids: ['bo-rep'], kind: 'solver', spec: 'optimizers.md §8' },
  { n: 27, paper: 'Blockwise variance-reduced multi-block bilevel (BSVRB)', ids: ['bsvrb'], kind: 'solver', spec: 'optimizers.md §9' },
  { n: 28, paper: 'Exact augmented Lagrangian + randomized sketching', ids: ['adasketch-newton'], kind: 'solver', spec: 'optimizers.md §10' },
  { n: 29, paper: 'Global optimization of two-layer ReLU nets (convex ADMM)', ids: ['convex-relu-admm'], kind: 'optimizer', spec: 'optimizers.md §11' },
  { n: 30, paper: 'NOTEARS via topological swaps (TOPO)', ids: ['topo-notears'], kind: 'solver', spec: 'optimizers.md §12' },
  { n: 31, paper: 'Optimization by directional attacks (cDSM + NN surrogate)', ids: ['directional-attacks'], kind: 'solver', spec: 'optimizers.md §13' },
  { n: 32, paper: 'Group envelope regularization (WGSEF)', ids: ['wgsef'], kind: 'optimizer', spec: 'optimizers.md §14' },
  { n: 33, paper: 'Learning-rate schedules by refinement', ids: ['lr-refine'], kind: 'optimizer', spec: 'optimizers.md §15' },
  { n: 34, paper: 'Logistic regression to perceptron (normalized LR+GD)', ids: ['normalized-lrgd'], kind: 'optimizer', spec: 'optimizers.md §16' },
  { n: 35, paper: 'Last-iterate convergence of stochastic gradient methods', ids: ['last-iterate-sgd'], kind: 'optimizer', spec: 'optimizers.md §17' },
  { n: 36, paper: 'FedSpeed', ids: ['fedspeed'], kind: 'optimizer', spec: 'optimizers.md §18' },
  { n: 37, paper: 'Jointly learnable codebooks and mappings (JLCM)', ids: ['jlcm'], kind: 'optimizer', spec: 'optimizers.md §19' },
  { n: 38, paper: 'Learned proximal networks (LPN)', ids: ['lpn'], kind: 'optimizer', spec: 'optimizers.md §20' },
  { n: 39, paper: 'ProSper probabilistic sparse coding (BSC, TSC, DSC, MCA, MMCA, GSC)', ids: ['prosper-bsc', 'prosper-mca', 'prosper-tsc', 'prosper-dsc', 'prosper-gsc'], kind: 'solver', spec: 'optimizers.md §21' },
  { n: 40, paper: 'Robust high-dimensional methods (MI screening, SCAD/MCP, proximal NCG)', ids: ['nonconvex-penalties'], kind: 'solver', spec: 'optimizers.md §22' },
  { n: 41, paper: 'Hierarchical Bayesian few-shot meta-learning (NIW)', ids: ['niw-meta'], kind: 'solver', spec: 'optimizers.md §23' },
];

export type MethodStatus = 'not yet' | 'runs' | 'claim reproduced' | 'claim failed';

export interface ClaimRecord {
  id: string;
  pass: boolean;
  form: 'fast' | 'full';
  summary: string;
  measured: Record<string, number | string | boolean>;
  at: string;
  seconds: number;
}

/** Status of one method id, given the registered ids and the stored claim results. */
export function methodStatus(id: string, registered: Set<string>, claims: Record<string, ClaimRecord>): MethodStatus {
  if (!registered.has(id)) return 'not yet';
  const c = claims[id];
  if (!c) return 'runs';
  return c.pass ? 'claim reproduced' : 'claim failed';
}

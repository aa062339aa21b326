// Losses and LM primitives. Token log-probs are gathered from a log-softmax over the vocabulary;
// ignored positions (label == ignoreIndex, or mask 0) contribute nothing.
import { Tensor, GraphError, fmtShape } from '../graph/graph';
import * as O from '../graph/ops';

function flattenTokens(logits: Tensor, targets: Tensor): { lp: Tensor; tg: Tensor } {
  const V = logits.shape[logits.rank - 1];
  if (logits.shape.slice(0, -1).join(',') !== targets.shape.join(',')) {
    throw new GraphError(`token loss: logits ${fmtShape(logits.shape)} and targets ${fmtShape(targets.shape)} differ before the vocabulary axis`);
  }
  return { lp: O.logSoftmax(O.reshape(logits, [-1, V]), -1), tg: O.reshape(O.cast(targets, 'int64'), [-1, 1]) };
}

/**
 * log p(target) per position: logits [..., V], int targets [...] -> [...].
 * Targets outside [0, V) must be masked by the caller (use `safeTargets`).
 */
export function tokenLogProbs(logits: Tensor, targets: Tensor): Tensor {
  const { lp, tg } = flattenTokens(logits, targets);
  return O.reshape(O.gatherElements(lp, tg, 1), targets.shape);
}

/** Replace ignored labels by 0 so they can be gathered; returns the labels and the float mask. */
export function safeTargets(labels: Tensor, ignoreIndex = -100, dtype: 'float32' | 'float64' = 'float32'): { targets: Tensor; mask: Tensor } {
  const ignored = O.equal(labels, ignoreIndex);
  return { targets: O.where(ignored, 0, labels), mask: O.cast(O.not(ignored), dtype) };
}

/** Mean cross-entropy over positions whose label != ignoreIndex (torch F.cross_entropy). */
export function crossEntropy(logits: Tensor, labels: Tensor, ignoreIndex = -100): Tensor {
  const { targets, mask } = safeTargets(labels, ignoreIndex, logits.dtype as 'float32');
  const ll = tokenLogProbs(logits, targets);
  const count = O.maximum(O.sum(mask), 1);
  return O.neg(O.div(O.sum(O.mul(ll, mask)), count));
}

/**
 * Hugging Face causal-LM loss: position t predicts labels[t+1] (labels are shifted inside),
 * mean over non-ignored targets. logits [B,T,V], labels [B,T].
 */
export function causalLmLoss(logits: Tensor, labels: Tensor, ignoreIndex = -100): Tensor {
  const T = logits.shape[1];
  const l = O.slice(logits, [0], [T - 1], [1]);
  const y = O.slice(labels, [1], [T], [1]);
  return crossEntropy(l, y, ignoreIndex);
}

/** Per-token log-probs of the sequence `ids` under causal logits: [B,T-1] for ids[:,1:]. */
export function sequenceLogProbs(logits: Tensor, ids: Tensor): Tensor {
  const T = logits.shape[1];
  return tokenLogProbs(O.slice(logits, [0], [T - 1], [1]), O.slice(ids, [1], [T], [1]));
}

/**
 * Weighted token NLL (alignment.md §0.3): -Σ_i Σ_t w_it · ℓ_it / Z with detached weights
 * (the caller feeds them as data) and normalizer Z (a number or a scalar tensor).
 * logits [B,T,V]; targets [B,T]; weights [B,T] (zero where masked).
 */
export function weightedTokenNll(logits: Tensor, targets: Tensor, weights: Tensor, normalizer: number | Tensor): Tensor {
  if (weights.shape.join(',') !== targets.shape.join(',')) throw new GraphError(`weightedTokenNll: weights ${fmtShape(weights.shape)} vs targets ${fmtShape(targets.shape)}`);
  return weightedNllOfLogProbs(tokenLogProbs(logits, targets), weights, normalizer);
}

/** -Σ w·ℓ / Z from per-token log-probs ℓ (weights are treated as constants). */
export function weightedNllOfLogProbs(logprobs: Tensor, weights: Tensor, normalizer: number | Tensor): Tensor {
  if (weights.shape.join(',') !== logprobs.shape.join(',')) throw new GraphError(`weightedNll: weights ${fmtShape(weights.shape)} vs log-probs ${fmtShape(logprobs.shape)}`);
  return O.neg(O.div(O.sum(O.mul(logprobs, O.stopGradient(weights))), normalizer));
}

/** KL(p || q) per position between two policies' token distributions: logits [..., V] -> [...]. */
export function tokenKl(logitsP: Tensor, logitsQ: Tensor): Tensor {
  const lp = O.logSoftmax(logitsP, -1);
  const lq = O.logSoftmax(logitsQ, -1);
  return O.sum(O.mul(O.exp(lp), O.sub(lp, lq)), [-1]);
}

/** Entropy per position of softmax(logits): [..., V] -> [...]. */
export function tokenEntropy(logits: Tensor): Tensor {
  const lp = O.logSoftmax(logits, -1);
  return O.neg(O.sum(O.mul(O.exp(lp), lp), [-1]));
}

/** Mean of a masked tensor: Σ x·m / max(Σ m, 1). */
export function maskedMean(x: Tensor, mask: Tensor): Tensor {
  return O.div(O.sum(O.mul(x, mask)), O.maximum(O.sum(mask), 1));
}

export const mse = (pred: Tensor, target: Tensor): Tensor => O.mean(O.mul(O.sub(pred, target), O.sub(pred, target)));

/** Bradley–Terry / logistic preference loss: mean -log σ(r_chosen - r_rejected) = softplus(-Δ). */
export function bradleyTerryLoss(chosen: Tensor, rejected: Tensor): Tensor {
  return O.mean(O.softplus(O.neg(O.sub(chosen, rejected))));
}

/** Binary logistic loss with labels y ∈ {0,1}: mean softplus(z) - y z. */
export function logisticLoss(logits: Tensor, y: Tensor): Tensor {
  return O.mean(O.sub(O.softplus(logits), O.mul(y, logits)));
}

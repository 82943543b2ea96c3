// Summary figures for one attention distribution (the prediction position's row).
// Non-finite weights are skipped everywhere. The figures are those of Python's
// attnwidget.explain.distribution_stats: both are tested on tests/fixtures/stats_cases.json.

/**
 * @param {ArrayLike<number>} weights
 * @returns {{count, missing, sum, entropy, entropyNorm, mse, std, max, argmax}}
 *   count = finite weights, missing = the others. entropy in nats of the positive parts
 *   renormalised to sum 1 (negative weights count as 0; no positive mass at all counts as
 *   uniform); entropyNorm = entropy / ln(count) (null when count < 2); mse = mean squared
 *   deviation from the mean weight (uniformity: 0 for a uniform row); std = its square
 *   root. Figures are null when count = 0.
 */
export function summarize(weights) {
  let count = 0;
  let sum = 0;
  let positive = 0;
  let max = -Infinity;
  let argmax = -1;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (!Number.isFinite(w)) continue;
    count++;
    sum += w;
    if (w > 0) positive += w;
    if (w > max) [max, argmax] = [w, i];
  }
  const missing = weights.length - count;
  if (count === 0) {
    return { count, missing, sum: 0, entropy: null, entropyNorm: null, mse: null, std: null, max: null, argmax };
  }
  const mean = sum / count;
  let entropy = positive > 0 ? 0 : Math.log(count);
  let sq = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (!Number.isFinite(w)) continue;
    sq += (w - mean) ** 2;
    if (w > 0) entropy -= (w / positive) * Math.log(w / positive);
  }
  const mse = sq / count;
  const entropyNorm = count > 1 ? entropy / Math.log(count) : null;
  return { count, missing, sum, entropy, entropyNorm, mse, std: Math.sqrt(mse), max, argmax };
}

/** Sum of the finite weights at the given positions. */
export function sumAt(weights, positions) {
  let total = 0;
  for (const p of positions) if (p >= 0 && p < weights.length && Number.isFinite(weights[p])) total += weights[p];
  return total;
}

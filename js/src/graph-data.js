// Nodes and edges of the item–feature graph, built from an Explanation (no DOM).
// Node ids: "h<pos>" history item, "r<rank>" recommendation, "f<key>" feature value.
import { featureKey, featureValues } from "./links.js";

/**
 * The strongest attention edges: for each query q at most topK keys k != q with a
 * finite weight > 0, as { id, source: "h<q>", target: "h<k>", weight }.
 */
export function attentionEdges(matrix, n, topK = 3) {
  const edges = [];
  const best = [];
  for (let q = 0; q < n; q++) {
    best.length = 0;
    for (let k = 0; k < n; k++) {
      const w = matrix[q * n + k];
      if (k === q || !(w > 0)) continue;
      if (best.length === topK && w <= best[topK - 1][1]) continue;
      let i = Math.min(best.length, topK - 1);
      while (i > 0 && best[i - 1][1] < w) i--;
      best.splice(i, 0, [k, w]);
      if (best.length > topK) best.pop();
    }
    for (const [k, w] of best) edges.push({ id: `a${q}-${k}`, source: `h${q}`, target: `h${k}`, weight: w });
  }
  return edges;
}

/** Attention each key receives, summed over queries (NaN skipped). */
export function receivedMass(matrix, n) {
  const mass = new Float32Array(n);
  for (let q = 0; q < n; q++) {
    for (let k = 0; k < n; k++) {
      const w = matrix[q * n + k];
      if (!Number.isNaN(w)) mass[k] += w;
    }
  }
  return mass;
}

/** Attention edges kept per query: fewer for long histories so the graph stays readable. */
export const edgesPerQuery = (n) => (n > 60 ? 1 : n > 25 ? 2 : 3);

/**
 * Graph of one explanation: { nodes, links, layoutLinks }.
 * links (drawn, fixed per user): history item -> feature value weighted by feature
 * attention (for long histories only shares >= 1/F, i.e. above uniform), prediction
 * position -> each recommendation, recommendation -> its feature values (weight null =
 * light). layoutLinks add the top attention edges of the last layer's head mean, so the
 * layout stays put while the head/layer changes.
 */
export function buildGraph(
  expl,
  { topK = edgesPerQuery(expl.n), minShare = expl.n > 50 ? 1 / expl.fields.length : 0 } = {},
) {
  const nodes = [];
  const links = [];
  const features = new Map();
  const featureNode = (field, value) => {
    const key = featureKey(field, value);
    if (!features.has(key)) {
      const index = Math.max(expl.fields.indexOf(field), 0);
      const node = { id: `f${key}`, kind: "feat", key, field, value: String(value), fieldIndex: index, mass: 0 };
      node.label = `${field}: ${value}`;
      features.set(key, node);
    }
    return features.get(key);
  };

  expl.history.forEach((item, pos) => {
    nodes.push({ id: `h${pos}`, kind: "hist", pos, label: item.label });
    for (const [field, value] of featureValues(item)) {
      const node = featureNode(field, value);
      const f = expl.fields.indexOf(field);
      const w = expl.feat && f >= 0 ? expl.feat[pos * expl.fields.length + f] : NaN;
      if (!Number.isNaN(w)) node.mass += w;
      if (w < minShare) continue;
      links.push({
        id: `h${pos}|${node.id}`,
        kind: "feat",
        source: `h${pos}`,
        target: node.id,
        weight: Number.isNaN(w) ? null : w,
      });
    }
  });
  expl.recs.forEach((item, rank) => {
    nodes.push({ id: `r${rank}`, kind: "rec", rank, label: item.label });
    if (expl.n)
      links.push({ id: `p|r${rank}`, kind: "rec", source: `h${expl.n - 1}`, target: `r${rank}`, weight: null });
    for (const [field, value] of featureValues(item)) {
      const node = featureNode(field, value);
      links.push({ id: `r${rank}|${node.id}`, kind: "recfeat", source: `r${rank}`, target: node.id, weight: null });
    }
  });
  nodes.push(...features.values());

  const overview = expl.n ? attentionEdges(expl.headMean(expl.L - 1), expl.n, topK) : [];
  return { nodes, links, layoutLinks: [...links, ...overview] };
}

/**
 * Edges from history items to the recommendation being explained, weighted by one
 * importance method: the topK largest positive finite values, normalised by the largest
 * (NaN, zero and negative values get no edge), as { id, source: "h<pos>", target: "r<rank>", weight }.
 */
export function importanceEdges(values, rank, topK = 5) {
  if (!values || !(rank >= 0)) return [];
  const kept = [...values.keys()].filter((i) => values[i] > 0 && values[i] !== Infinity);
  kept.sort((a, b) => values[b] - values[a] || a - b);
  const top = kept.slice(0, topK);
  const max = top.length ? values[top[0]] : 1;
  return top.map((pos) => ({ id: `w${pos}`, source: `h${pos}`, target: `r${rank}`, weight: values[pos] / max }));
}

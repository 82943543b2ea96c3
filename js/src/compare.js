// CompareExplorer front end (anywidget): one history through two models, or two users
// through one model (mode "users": a second user box sets user_b). Traits: user, user_b,
// mode, layer, head, head_mode, labels, pack_a, pack_b, error (attnwidget/widget/compare.py).
// Recommendations side by side (what only one side recommends, what moved), each side's
// attention for the chosen layer/head, and B − A as a diverging heatmap where the two
// histories end with the same items; hover links an item across both halves.
import { card, fmt, h } from "./dom.js";
import { Explanation } from "./explanation.js";
import { createHeatmap } from "./heatmap.js";
import { isolateKeys } from "./keys.js";
import { cellSize } from "./seq-view.js";
import { STYLES } from "./styles.js";

/**
 * Each item of either top-k with its rank under a and b (null outside) and the change,
 * as compare_recommendations in attnwidget/explain/compare.py names it.
 * @returns {{ id: string, label: string, rankA: number | null, rankB: number | null, change: string }[]}
 */
export function compareRecs(a, b) {
  const rank = (e) => new Map(e.recs.map((r, i) => [String(r.id), i + 1]));
  const [ra, rb] = [rank(a), rank(b)];
  const labels = new Map([...b.recs, ...a.recs].map((r) => [String(r.id), r.label]));
  const far = 1 << 30;
  return [...new Set([...ra.keys(), ...rb.keys()])]
    .map((id) => {
      const rankA = ra.get(id) ?? null;
      const rankB = rb.get(id) ?? null;
      return { id, label: labels.get(id), rankA, rankB, change: change(rankA, rankB) };
    })
    .sort((x, y) => (x.rankA ?? far) - (y.rankA ?? far) || (x.rankB ?? far) - (y.rankB ?? far));
}

function change(rankA, rankB) {
  if (rankA === null) return "only in b";
  if (rankB === null) return "only in a";
  if (rankA === rankB) return "same";
  return rankB < rankA ? `up ${rankA - rankB}` : `down ${rankB - rankA}`;
}

/**
 * The views both packs can show: layers and heads up to what both have, the head mean when
 * their head counts differ, and the last m history items both saw (null when they differ).
 */
export function sharedView(a, b, { layer = 0, head = 0, headMode = "head" } = {}) {
  const m = Math.min(a.n, b.n);
  const same =
    a
      .historyIds()
      .slice(a.n - m)
      .join("\u0000") ===
    b
      .historyIds()
      .slice(b.n - m)
      .join("\u0000");
  const L = Math.min(a.L, b.L);
  const H = a.H === b.H ? a.H : 0; // per-head comparison only between equal head counts
  const clamp = (v, max) => Math.min(Math.max(Math.trunc(Number(v) || 0), 0), Math.max(max - 1, 0));
  return {
    m: same ? m : null,
    L,
    H,
    layer: clamp(layer, L),
    head: clamp(head, H || 1),
    headMode: H ? headMode : "mean",
  };
}

/** How many distinct items both histories hold. */
export function sharedItems(a, b) {
  const mine = new Set(a.historyIds());
  return new Set(b.historyIds().filter((id) => mine.has(id))).size;
}

/**
 * What each side's heatmap shows: the last m x m block of both when the histories end with
 * the same m items (then B − A is defined), else each side's whole history.
 * @returns {{ offset: number, size: number }[]} per side, the first history position shown and how many
 */
export function shownBlocks(a, b, m) {
  return [a, b].map((e) => (m === null ? { offset: 0, size: e.n } : { offset: e.n - m, size: m }));
}

/** Positions (within a side's shown block) of the history items with this id. */
export function positionsOf(expl, block, id) {
  const out = new Set();
  if (id === null || id === undefined) return out;
  for (let p = 0; p < block.size; p++) if (String(expl.history[block.offset + p]?.id) === id) out.add(p);
  return out;
}

/** The last m x m block of one pack's matrix for a view (rows: last m queries). */
export function block(expl, view, m) {
  const full = expl.matrix({ layer: view.layer, head: view.head, layerMode: "layer", headMode: view.headMode });
  const n = expl.n;
  const out = new Float32Array(m * m);
  for (let r = 0; r < m; r++) out.set(full.subarray((n - m + r) * n + (n - m), (n - m + r + 1) * n), r * m);
  return out;
}

/** B − A over the shared block (NaN where either is NaN). */
export function difference(a, b, view) {
  const x = block(a, view, view.m);
  const y = block(b, view, view.m);
  return y.map((v, i) => v - x[i]);
}

/**
 * @typedef {object} CompareTraits the synced traits of attnwidget/widget/compare.py
 * @property {string} user side A's user (both sides' when comparing models)
 * @property {string} user_b side B's user when comparing two users ("" otherwise)
 * @property {"models" | "users"} mode
 * @property {number} layer
 * @property {number} head
 * @property {"head" | "mean"} head_mode
 * @property {string[]} labels the two sides' names
 * @property {DataView} pack_a
 * @property {DataView} pack_b
 * @property {string} error
 */

/**
 * @typedef {object} CompareModel
 * @property {<K extends keyof CompareTraits>(name: K) => CompareTraits[K]} get
 * @property {<K extends keyof CompareTraits>(name: K, value: CompareTraits[K]) => void} set
 * @property {() => void} save_changes
 * @property {(event: string, callback: (...args: any[]) => void) => void} on
 * @property {(event?: string, callback?: (...args: any[]) => void) => void} off
 */

/** @param {{ model: CompareModel, el: HTMLElement }} context */
function render({ model, el }) {
  const root = h("div", { class: "attnwidget aw-compare" });
  el.replaceChildren(h("style", { text: STYLES }), root);
  const releaseKeys = isolateKeys(root);
  let pair = null; // [Explanation, Explanation]
  let view = null;
  let matrices = null;
  let blocks = null; // per side: { offset, size } of the history its heatmap shows
  let hover = null; // an item id: lit in both lists and wherever it is in a heatmap
  const twoUsers = model.get("mode") === "users";

  const userBox = h("input", {
    class: "aw-user-input",
    type: "text",
    "aria-label": twoUsers ? "user A id" : "user id",
    spellcheck: "false",
  });
  const userBoxB = h("input", {
    class: "aw-user-b-input",
    type: "text",
    "aria-label": "user B id",
    spellcheck: "false",
  });
  const layerInput = h("input", {
    class: "aw-layer-slider",
    type: "range",
    min: "0",
    step: "1",
    "aria-label": "layer",
  });
  const headInput = h("input", { class: "aw-head-slider", type: "range", min: "0", step: "1", "aria-label": "head" });
  const meanInput = h("input", { class: "aw-mean-toggle", type: "checkbox", "aria-label": "mean over heads" });
  const viewText = h("span", { class: "aw-control-value" });
  const control = (name, ...children) =>
    h("label", { class: "aw-control" }, h("span", { class: "aw-control-name", text: name }), ...children);
  const error = h("div", { class: "aw-error", role: "alert", hidden: true });
  const note = h("div", { class: "aw-note", hidden: true });
  root.append(
    h(
      "div",
      { class: "aw-top" },
      control(twoUsers ? "User A" : "User", userBox),
      ...(twoUsers ? [control("User B", userBoxB)] : []),
      control("Layer", layerInput),
      control("Head", headInput, h("span", { text: "mean" }), meanInput),
      viewText,
    ),
    error,
    note,
  );

  /** @type {(name: keyof CompareTraits, value: any) => void} */
  const commit = (name, value) => {
    model.set(name, value);
    model.save_changes();
  };
  userBox.addEventListener("change", () => userBox.value.trim() && commit("user", userBox.value.trim()));
  userBoxB.addEventListener("change", () => userBoxB.value.trim() && commit("user_b", userBoxB.value.trim()));
  layerInput.addEventListener("input", () => commit("layer", Number(layerInput.value)));
  headInput.addEventListener("input", () => commit("head", Number(headInput.value)));
  meanInput.addEventListener("change", () => commit("head_mode", meanInput.checked ? "mean" : "head"));

  // --- recommendations side by side -------------------------------------------------
  const lists = [0, 1].map(() => h("ol", { class: "aw-recs aw-compare-recs" }));
  const recCards = lists.map((list) => {
    const c = card("Recommendations", { className: "aw-recs-card" });
    c.body.append(list);
    return c;
  });

  function recRow(item, side) {
    const rank = side === 0 ? item.rankA : item.rankB;
    const mark =
      item.change === "same"
        ? null
        : item.change === "only in a" || item.change === "only in b"
          ? `only ${pair ? model.get("labels")?.[side] : ""}`
          : side === 1
            ? item.change
            : null;
    const li = h(
      "li",
      { class: `aw-rec${item.change.startsWith("only") ? " aw-rec-only" : ""}`, "data-id": item.id },
      h("span", { class: "aw-rank", text: String(rank) }),
      h(
        "div",
        { class: "aw-rec-main" },
        h("div", { class: "aw-rec-title", title: item.label, text: item.label }),
        ...(mark ? [h("div", { class: "aw-rec-feats" }, h("span", { class: "aw-chip aw-chip-new", text: mark }))] : []),
      ),
    );
    li.addEventListener("mouseenter", () => setHover(item.id));
    li.addEventListener("mouseleave", () => setHover(null));
    return li;
  }

  function drawRecs() {
    const items = compareRecs(pair[0], pair[1]);
    const labels = model.get("labels") ?? ["A", "B"];
    lists.forEach((list, side) => {
      const mine = items
        .filter((it) => (side === 0 ? it.rankA : it.rankB) !== null)
        .sort((x, y) => (side === 0 ? x.rankA - y.rankA : x.rankB - y.rankB));
      list.replaceChildren(...mine.map((it) => recRow(it, side)));
      const only = mine.filter((it) => it.change.startsWith("only")).length;
      recCards[side].title.textContent = `${labels[side]}: recommendations`;
      recCards[side].sub.textContent = `top ${mine.length} · ${only} not in ${labels[1 - side]}'s`;
    });
  }

  // --- heatmaps: A, B and B − A ------------------------------------------------------
  const sideOf = (which) => (which === 1 ? 1 : 0); // the difference is labelled as A's block
  const itemAt = (side, pos) => pair[side].history[blocks[side].offset + pos];
  const label = (side, pos) => itemAt(side, pos)?.label ?? `#${pos}`;
  const heatmaps = [0, 1, 2].map((which) =>
    createHeatmap({
      className: ["aw-compare-a", "aw-compare-b", "aw-compare-diff"][which],
      rowAxis: "query (attending)",
      colAxis: "key (attended to)",
      legendName: which === 2 ? "B − A" : "weight",
      tooltipLines: (row, col) => cellLines(which, row, col),
      onHover: (hit) => setHover(hit && String(itemAt(sideOf(which), hit.col ?? hit.row)?.id)),
      onClick: () => {},
    }),
  );
  const mapCards = heatmaps.map((map, which) => {
    const c = card(which === 2 ? "Attention difference" : "Attention", {
      className: which === 2 ? "aw-compare-diff-card" : "",
    });
    c.body.append(map.el);
    return c;
  });

  function cellLines(which, row, col) {
    const side = sideOf(which);
    if (row === null || col === null) return [label(side, row ?? col)];
    const names = model.get("labels") ?? ["A", "B"];
    if (view.m === null) {
      const v = matrices[side][row * blocks[side].size + col];
      return [`${names[side]} ${fmt(v, 4)}`, `query: ${label(side, row)}`, `key: ${label(side, col)}`];
    }
    const i = row * view.m + col;
    const [a, b] = [matrices[0][i], matrices[1][i]];
    const lines = [`${names[0]} ${fmt(a, 4)} · ${names[1]} ${fmt(b, 4)}`, `B − A ${fmt(b - a, 4)}`];
    if (which !== 2) lines.reverse();
    return [...lines, `query: ${label(side, row)}`, `key: ${label(side, col)}`];
  }

  const grid = h("div", { class: "aw-grid" }, recCards[0].el, recCards[1].el, mapCards[0].el, mapCards[1].el);
  root.append(grid, mapCards[2].el);

  function setHover(next) {
    hover = next ?? null;
    if (blocks) {
      heatmaps.forEach((map, which) => {
        const side = sideOf(which);
        const positions = positionsOf(pair[side], blocks[side], hover);
        map.highlight({ rows: positions, cols: positions });
      });
    }
    for (const list of lists) {
      for (const li of list.children) li.classList.toggle("aw-lit", hover === li.dataset.id);
    }
  }

  function drawMaps() {
    if (!pair) return;
    view = sharedView(pair[0], pair[1], {
      layer: model.get("layer"),
      head: model.get("head"),
      headMode: model.get("head_mode"),
    });
    const labels = model.get("labels") ?? ["A", "B"];
    const what =
      view.headMode === "mean" ? `layer ${view.layer} · mean of heads` : `layer ${view.layer} · head ${view.head}`;
    viewText.textContent = what;
    layerInput.max = String(Math.max(view.L - 1, 0));
    layerInput.value = String(view.layer);
    headInput.max = String(Math.max(view.H - 1, 0));
    headInput.value = String(view.head);
    headInput.disabled = view.headMode === "mean";
    meanInput.checked = view.headMode === "mean";
    meanInput.disabled = !view.H;
    note.textContent = compareNotes(labels).join(" ");
    note.hidden = !note.textContent;
    mapCards[2].el.hidden = view.m === null;
    blocks = shownBlocks(pair[0], pair[1], view.m);
    matrices = blocks.map((b, side) => block(pair[side], view, b.size));
    const cell = cellSize(Math.max(blocks[0].size, blocks[1].size));
    heatmaps.forEach((map, which) => {
      if (which === 2 && view.m === null) return; // not defined: hidden, the note says why
      const side = sideOf(which);
      const size = blocks[side].size;
      const labelsOf = Array.from({ length: size }, (_, i) => label(side, i));
      mapCards[which].sub.textContent = which === 2 ? `${labels[1]} − ${labels[0]} · ${what}` : what;
      if (which < 2) mapCards[which].title.textContent = `${labels[which]}: attention`;
      map.draw({
        values: which === 2 ? matrices[1].map((v, i) => v - matrices[0][i]) : matrices[which],
        rows: size,
        cols: size,
        rowLabels: labelsOf,
        colLabels: labelsOf,
        cellW: cell,
        cellH: cell,
        maskUpper: which < 2,
        diverging: which === 2,
      });
    });
    setHover(hover);
  }

  /** What the views compare, said in words (the difference's scope, or why it is not shown). */
  function compareNotes(labels) {
    const [a, b] = pair;
    const notes = [];
    const sides = twoUsers ? "The model" : "The models";
    if (!view.H) notes.push(`${sides} have different head counts: each layer shows the mean over its heads.`);
    if (twoUsers) {
      const [ua, ub] = [model.get("user"), model.get("user_b")];
      if (view.m === null) {
        notes.push(
          `${ua} and ${ub} have different histories (${a.n} and ${b.n} items, ${sharedItems(a, b)} items in both): ` +
            "attention at the same position is over different items, so the difference " +
            `${labels[1]} − ${labels[0]} is not defined and is not shown. ` +
            "Hover an item to light it in both heatmaps.",
        );
      } else if (a.n === b.n) {
        notes.push(
          `${ua} and ${ub} have the same history (${view.m} items): the difference compares it item for item.`,
        );
      } else {
        notes.push(
          `The histories of ${ua} (${a.n} items) and ${ub} (${b.n}) end with the same ${view.m} items: ` +
            `the views and the difference cover those ${view.m}.`,
        );
      }
    } else if (view.m === null) {
      notes.push("The two models saw different histories: their attention cannot be subtracted.");
    } else if (a.n !== b.n) {
      notes.push(`The models saw ${a.n} and ${b.n} items: the views cover the last ${view.m}.`);
    }
    return notes;
  }

  function load() {
    error.textContent = String(model.get("error") ?? "");
    error.hidden = !error.textContent;
    userBox.value = String(model.get("user") ?? "");
    userBoxB.value = String(model.get("user_b") ?? "");
    try {
      const [a, b] = [model.get("pack_a"), model.get("pack_b")];
      if (!a?.byteLength || !b?.byteLength) return;
      pair = [Explanation.fromBytes(a), Explanation.fromBytes(b)];
    } catch (err) {
      pair = null;
      error.textContent = `Could not read the explanations: ${err.message}`;
      error.hidden = false;
      return;
    }
    hover = null;
    drawRecs();
    drawMaps();
  }

  const subscriptions = [];
  const on = (event, fn) => {
    model.on(event, fn);
    subscriptions.push([event, fn]);
  };
  on("change:pack_a", load);
  on("change:pack_b", load);
  on("change:error", load);
  on("change:user", () => {
    userBox.value = String(model.get("user") ?? "");
  });
  on("change:user_b", () => {
    userBoxB.value = String(model.get("user_b") ?? "");
  });
  for (const name of ["layer", "head", "head_mode", "labels"]) on(`change:${name}`, drawMaps);
  load();
  return () => {
    releaseKeys();
    for (const [event, fn] of subscriptions) model.off(event, fn);
  };
}

export default { render };

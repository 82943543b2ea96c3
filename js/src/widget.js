// AttentionExplorer front end (anywidget). Wires the traits (contract in js/README.md)
// to the views: packs are decoded once per user, head/layer/mode changes redraw from
// the decoded tensors, and hover/selection are linked across views. The "why" panel
// switches importance methods locally; what-if edits go to the kernel via `history_edit`
// (items removed or added) and `feature_edit` (items' features changed).
import { createBarsView } from "./bars.js";
import { createControls } from "./controls.js";
import { h } from "./dom.js";
import { createFeatView } from "./feat-view.js";
import { createGraphView } from "./graph.js";
import { isolateKeys } from "./keys.js";
import { Links, resolveTarget } from "./links.js";
import { createRecsView } from "./recs.js";
import { createSeqView } from "./seq-view.js";
import { PackSource } from "./source.js";
import { STYLES } from "./styles.js";
import { themeKey, watchTheme } from "./theme.js";
import { searchIds, USER_SEARCH_STYLES } from "./user-search.js";
import { appendId, createWhatIf, removeAt } from "./what-if.js";
import { createWhyView } from "./why.js";

/** Give up waiting for the kernel's answer to a history edit after this long. */
const EDIT_TIMEOUT_MS = 30_000;
const AHEAD_DELAY_MS = 150; // after a user is drawn, before decoding its archive neighbours

const sameList = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** What a pack shows: its user and history (a new one = the view moved on). */
const viewOf = (expl) => (expl ? JSON.stringify([expl.user, expl.historyIds()]) : "");

/** @param {{ model: import("./types.js").Model, el: HTMLElement }} context */
function render({ model, el }) {
  const root = h("div", { class: "attnwidget" });
  el.replaceChildren(h("style", { text: STYLES + USER_SEARCH_STYLES }), root);

  const releaseKeys = isolateKeys(root);
  const source = new PackSource();
  const subscriptions = [];
  let expl = null;
  let localError = "";
  let archiveError = "";
  let drawnKey = "";
  let busyTimer = null;
  // the kernel's error and the view it was about: hidden once the view moved on
  let errorView = null;
  let errorStale = false;

  // Errors never escape render or a model callback: they are shown in the widget.
  const guard =
    (fn) =>
    (...args) => {
      try {
        fn(...args);
      } catch (err) {
        console.error("attnwidget:", err);
        localError = `Something went wrong: ${err?.message ?? err}`;
        showMessages();
      }
    };

  const commit = (name, value) => {
    model.set(name, value);
    model.save_changes();
  };

  const links = new Links(
    guard((selectionChanged) => {
      paintHighlights();
      if (selectionChanged) syncSelection();
    }),
  );
  const controls = createControls({
    onUser: guard(chooseUser),
    onUserSearch: guard(searchUsers),
    onUserWindow: guard((start) => commit("user_window_start", start)),
    onLayer: guard((v) => setView("layer", v)),
    onHead: guard((v) => setView("head", v)),
    onLayerMode: guard((v) => setView("layer_mode", v)),
    onHeadMode: guard((v) => setView("head_mode", v)),
  });
  const seq = createSeqView(links);
  const feat = createFeatView(links);
  const bars = createBarsView(links);
  const recs = createRecsView(links);
  const graph = createGraphView(links);
  const why = createWhyView(links, {
    onMethod: guard(chooseMethod),
    onRemove: guard(removeItem),
    onApply: guard(editHistory),
    onFeatureEdit: guard(editFeature),
  });
  const whatIf = createWhatIf(links, { onSearch: guard(search), onAdd: guard(addItem), onReset: guard(resetHistory) });
  const views = [seq, feat, bars, recs, why, whatIf, graph];

  const status = h("span", { class: "aw-status", "aria-live": "polite" });
  const error = h("div", { class: "aw-error", role: "alert" });
  const truncated = h("div", { class: "aw-truncated" });
  const warnings = h("ul", { class: "aw-warnings" });
  const empty = h("div", { class: "aw-empty" });
  const grid = h("div", { class: "aw-grid" }, ...views.map((v) => v.el));
  root.append(
    h("div", { class: "aw-top" }, controls.el, status),
    error,
    whatIf.banner,
    truncated,
    warnings,
    empty,
    grid,
  );

  const readView = () => ({
    layer: model.get("layer"),
    head: model.get("head"),
    layerMode: model.get("layer_mode"),
    headMode: model.get("head_mode"),
  });

  function setView(name, value) {
    movedOn();
    commit(name, value);
    redraw();
  }

  /** The user changed the view: a message about an earlier refused change is stale. */
  function movedOn() {
    if (!localError) return;
    localError = "";
    showMessages();
  }

  /** Redraw the layer/head-dependent views; timed into data-redraw-ms unless a rebuild. */
  function redraw(rebuild = false) {
    if (!expl) return;
    const view = expl.clampView(readView());
    const key = JSON.stringify(view);
    if (expl.n && (rebuild || key !== drawnKey)) {
      const t0 = performance.now();
      const matrix = expl.matrix(view);
      const text = expl.describe(view);
      seq.draw(matrix, text);
      bars.draw(matrix, text);
      graph.setAttention(matrix, text);
      paintHighlights();
      drawnKey = key;
      if (!rebuild) root.dataset.redrawMs = (performance.now() - t0).toFixed(2);
    }
    controls.setView(view, { L: expl.L, H: expl.H, hasRollout: expl.hasRollout });
  }

  function paintHighlights() {
    if (!expl?.n) return;
    const lit = resolveTarget(expl, links.active);
    for (const v of views) v.highlight(lit, links.selection);
  }

  const modelSelection = () =>
    (model.get("selection") ?? []).filter((p) => Number.isInteger(p) && p >= 0 && p < (expl?.n ?? 0));

  function syncSelection() {
    const next = [...links.selection].sort((a, b) => a - b);
    const current = model.get("selection") ?? [];
    if (current.length !== next.length || current.some((p, i) => p !== next[i])) commit("selection", next);
  }

  // --- importance method ("why" panel and graph edges): local, no kernel round trip -------
  function chooseMethod(method) {
    movedOn();
    commit("method", method);
    applyMethod();
  }

  function applyMethod() {
    if (!expl?.n) return;
    const method = why.setMethod(String(model.get("method") ?? ""));
    const rank = expl.target ? expl.recs.findIndex((r) => String(r.id) === String(expl.target.id)) : -1;
    graph.setImportance(method ? expl.importance.values.get(method) : null, method, rank);
  }

  // --- what-if editing: the kernel answers a new history_edit with a new payload ---------
  function setBusy(value) {
    clearTimeout(busyTimer);
    if (value) {
      busyTimer = setTimeout(
        guard(() => setBusy(false)),
        EDIT_TIMEOUT_MS,
      );
    }
    why.setBusy(value);
    whatIf.setBusy(value);
    root.classList.toggle("aw-pending", value);
  }

  /** Ask for the explanation of another history (never an empty one: [] means "the original"). */
  function editHistory(ids) {
    if (!expl?.editable || !ids?.length || sameList(model.get("history_edit") ?? [], ids)) return;
    commit("history_edit", ids);
    setBusy(true);
  }

  function removeItem(pos) {
    const ids = expl && removeAt(expl.historyIds(), pos);
    if (ids) editHistory(ids);
  }

  function addItem(id) {
    if (expl) editHistory(appendId(expl.historyIds(), id));
  }

  /** Add a feature edit ({field, value, position} or {field, value, replaces}) to the ones
   * shown: they apply to the shown history (a remove/add afterwards drops them). */
  function editFeature(edit) {
    if (!expl?.editable || !edit) return;
    commit("feature_edit", [...(model.get("feature_edit") ?? []), edit]);
    setBusy(true);
  }

  /** Back to the user's own history: [] drops the feature edits too (the kernel does it). */
  function resetHistory() {
    if ((model.get("history_edit") ?? []).length) commit("history_edit", []);
    else if ((model.get("feature_edit") ?? []).length) commit("feature_edit", []);
    else return;
    setBusy(true);
  }

  function search(query) {
    model.send({ type: "search", query });
  }

  // --- users: found by the kernel (live) or among the archive's users (static export) -----
  function searchUsers(query) {
    if (source.archived) controls.showUserResults({ query, ...searchIds(source.users, query) });
    else model.send({ type: "search_users", query });
  }

  function show(next) {
    if (next === expl) return;
    // a new user or an edited history moves positions: the selection is dropped
    const keep = expl === null || (next?.user === expl.user && sameList(next?.historyIds() ?? [], expl.historyIds()));
    expl = next;
    // a kernel error about another user or history does not describe this view
    if (model.get("error") && errorView !== null && viewOf(expl) !== errorView) errorStale = true;
    links.reset();
    if (keep) links.selection = new Set(modelSelection());
    else syncSelection();
    drawnKey = "";
    const n = expl?.n ?? 0;
    grid.hidden = !n;
    empty.hidden = !!n;
    empty.textContent = expl ? `User '${expl.user}' has no history to explain.` : "No explanation loaded yet.";
    root.classList.toggle("aw-edited", !!expl?.whatIf);
    whatIf.banner.hidden = true;
    if (n) {
      for (const v of views) if (v !== feat) v.setExplanation(expl);
      applyMethod();
      drawFeaturesLater();
    } else graph.destroy();
    redraw(true);
  }

  // The feature heatmaps (a quarter of a 200-item user's drawing) follow in the frame after
  // the sequence heatmap is painted: a user switch, and a static page's first paint, show
  // it that much sooner. data-draw-count on their canvases says when they are drawn.
  let featFrame = 0;
  let featTimer = 0;
  function drawFeaturesLater() {
    cancelFeatures();
    const shown = expl;
    const drawNow = guard(() => {
      featFrame = featTimer = 0;
      if (expl !== shown) return;
      feat.setExplanation(shown);
      paintHighlights();
    });
    if (typeof requestAnimationFrame !== "function") drawNow();
    else featFrame = requestAnimationFrame(() => (featTimer = setTimeout(drawNow, 0)));
  }
  function cancelFeatures() {
    if (featFrame) cancelAnimationFrame(featFrame);
    clearTimeout(featTimer);
    featFrame = featTimer = 0;
  }

  // In a static export, the archive's users next to the shown one are decoded while the page
  // is idle, so stepping through users only draws.
  let aheadTimer = 0;
  function decodeAhead(user) {
    clearTimeout(aheadTimer);
    const users = source.users;
    const at = users.indexOf(user);
    const next = [users[at + 1], users[at - 1]].filter((u) => u !== undefined && !source.decoded(u));
    if (at < 0 || !next.length) return;
    aheadTimer = setTimeout(() => {
      try {
        source.fromArchive(next[0]);
      } catch {
        return; // a bad pack says so when its user is shown
      }
      decodeAhead(user);
    }, AHEAD_DELAY_MS);
  }

  function load() {
    const user = String(model.get("user") ?? "");
    const t0 = performance.now();
    try {
      const before = expl;
      show(source.archived && source.has(user) ? source.fromArchive(user) : source.fromPayload(model.get("payload")));
      if (source.archived && source.has(user)) decodeAhead(user);
      // the user asked for is the one shown again (the change was refused): the graph carries on
      if (expl && expl === before && user === expl.user) graph.resume();
      if (expl && expl !== before) {
        // decode + every view drawn, and the kernel's own time for this pack (benchmarks read them)
        root.dataset.loadMs = (performance.now() - t0).toFixed(2);
        root.dataset.kernelMs = String(expl.header.timing?.kernel_ms ?? "");
      }
      localError = "";
    } catch (err) {
      localError = `Could not read the explanation: ${err.message}`;
      show(null);
    }
    refreshUsers();
    showMessages();
  }

  function loadArchive() {
    archiveError = "";
    try {
      source.setArchive(model.get("archive"));
    } catch (err) {
      source.setArchive(null);
      archiveError = `Could not read the archive: ${err.message}`;
    }
  }

  function chooseUser(id) {
    if (source.archived && !source.has(id)) {
      localError = `Unknown user '${id}'`;
      showMessages();
      return;
    }
    localError = "";
    // the kernel's answer is on its way: the page's main thread stays free to take it
    if (!source.archived && id !== expl?.user) graph.hold();
    commit("user", id);
    load();
  }

  function refreshUsers() {
    const ids = source.archived ? source.users : (model.get("user_window") ?? []);
    const start = source.archived ? 0 : Number(model.get("user_window_start") ?? 0);
    const total = source.archived ? ids.length : Number(model.get("n_users") ?? ids.length);
    controls.setUsers({ ids, start, total }, String(model.get("user") ?? ""));
  }

  function showMessages() {
    const errors = [archiveError, localError, errorStale ? "" : model.get("error")].filter(Boolean);
    error.textContent = errors.join(" · ");
    error.hidden = errors.length === 0;
    const cut = expl?.truncated;
    truncated.hidden = !cut;
    if (cut) {
      truncated.textContent = `Long history: showing the last ${cut.shown} of ${cut.total} interactions (the model's maximum length).`;
    }
    const notes = expl?.warnings ?? [];
    warnings.replaceChildren(...notes.map((w) => h("li", { text: w })));
    warnings.hidden = notes.length === 0;
    const state = String(model.get("status") ?? "");
    status.textContent = state;
    root.classList.toggle("aw-loading", state === "loading");
  }

  const on = (event, fn) => {
    const handler = guard(fn);
    model.on(event, handler);
    subscriptions.push([event, handler]);
  };
  on("change:payload", () => {
    setBusy(false);
    load();
  });
  on("change:user", load);
  on("change:archive", () => {
    loadArchive();
    load();
  });
  for (const name of ["user_window", "user_window_start", "n_users"]) on(`change:${name}`, refreshUsers);
  on("change:error", () => {
    setBusy(false);
    errorStale = false;
    errorView = model.get("error") ? viewOf(expl) : null;
    showMessages();
  });
  on("change:method", applyMethod);
  on("msg:custom", (msg) => {
    if (msg?.type === "search_results") whatIf.showResults(msg);
    else if (msg?.type === "user_results") controls.showUserResults(msg);
  });
  on("change:status", showMessages);
  for (const name of ["layer", "head", "layer_mode", "head_mode"]) on(`change:${name}`, () => redraw());
  on("change:selection", () => expl?.n && links.setSelection(modelSelection()));

  guard(() => {
    loadArchive();
    load();
  })();

  // Follow the page's theme (JupyterLab Light/Dark, ...): canvases paint text in colours
  // read from CSS, so they are read again and the heatmaps redrawn when those change.
  let theme = themeKey(root);
  const stopTheme = watchTheme(
    guard(() => {
      const now = themeKey(root);
      if (now === theme) return;
      theme = now;
      if (!expl?.n) return;
      seq.restyle();
      feat.restyle();
    }),
  );

  return () => {
    stopTheme();
    releaseKeys();
    for (const [event, handler] of subscriptions) model.off(event, handler);
    clearTimeout(busyTimer);
    clearTimeout(aheadTimer);
    cancelFeatures();
    whatIf.destroy();
    controls.destroy();
    graph.destroy();
  };
}

export default { render };

// View 7: "why this recommendation": importance of each history item for the top
// recommendation by a method the user picks (the methods and their descriptions come in
// the pack header: header.importance.methods / .descriptions),
// how well that method agrees with occlusion, and a note when raw attention and occlusion
// blame different items. Each row can carry a remove button and a "change a feature" button
// (what-if editing; the feature form is feature-edit.js).
import { cssAt, MISSING_CSS, NEGATIVE_CSS } from "./colors.js";
import { card, fmt, h } from "./dom.js";
import { createFeatureEditor } from "./feature-edit.js";
import { createRoving } from "./keys.js";

/**
 * What `method` measures, as the kernel describes it (header.importance.descriptions).
 * @param {import("./types.js").PackHeader | null | undefined} header
 * @param {string} method
 */
export function methodInfo(header, method) {
  const text = header?.importance?.descriptions?.[method];
  return typeof text === "string" ? text : "";
}

/** Kendall τ as text: two decimals with a real minus sign, "n/a" when missing. */
export function fmtTau(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "n/a";
  const text = Math.abs(value).toFixed(2);
  return value < 0 && text !== "0.00" ? `−${text}` : text;
}

/** A share in [0, 1] as a whole percentage, "n/a" when missing. */
export function fmtPercent(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "n/a";
  return `${Math.round(value * 100)}%`;
}

/**
 * How far `method` agrees with occlusion: { model, user } lines of text.
 * model: "Kendall τ vs occlusion 0.40 · top-1 agreement 47% (mean over 30 users)";
 * user: "this user: τ 0.56 · same top item as occlusion: no". Missing figures read "n/a".
 */
export function agreementText(importance, method) {
  if (!importance) return { model: "", user: "" };
  if (method === "occlusion") {
    return { model: "Occlusion is the reference the other methods are compared with.", user: "" };
  }
  const a = importance.agreement[method] ?? {};
  const n = importance.nUsers;
  const over =
    n === null || n === undefined ? "model mean over sampled users" : `mean over ${n} user${n === 1 ? "" : "s"}`;
  const model = importance.pending?.has("agreement")
    ? "Agreement with occlusion over sampled users: computing…"
    : `Kendall τ vs occlusion ${fmtTau(a.kendallTau)} · top-1 agreement ${fmtPercent(a.top1)} (${over})`;
  if (importance.pending?.has("occlusion")) return { model, user: "this user: waiting for occlusion to be computed…" };
  const u = importance.userAgreement[method];
  if (!u) return { model, user: "" };
  const same = u.top1 === null ? "n/a" : u.top1 >= 0.5 ? "yes" : "no";
  return { model, user: `this user: τ ${fmtTau(u.kendallTau)} · same top item as occlusion: ${same}` };
}

/**
 * Horizontal bar geometry for importance values that may be NaN or negative.
 * Returns { zero, bars, top, missing }: zero = position of the zero line in [0, 1];
 * bars[i] = { value, missing, negative, left, width } (fractions of the track);
 * top = index of the largest finite value (-1 if none).
 */
export function barLayout(values) {
  let pos = 0;
  let neg = 0;
  let top = -1;
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      missing++;
      continue;
    }
    if (v > pos) pos = v;
    if (-v > neg) neg = -v;
    if (top < 0 || v > values[top]) top = i;
  }
  const span = pos + neg;
  const zero = span > 0 ? neg / span : 0;
  const bars = Array.from(values, (v) => {
    if (!Number.isFinite(v)) return { value: v, missing: true, negative: false, left: 0, width: 0 };
    const width = span > 0 ? Math.abs(v) / span : 0;
    return { value: v, missing: false, negative: v < 0, left: v < 0 ? zero - width : zero, width };
  });
  return { zero, bars, top, missing, max: pos };
}

/**
 * @param links shared highlight state
 * @param {{ onMethod(method), onRemove(pos), onApply?(ids), onFeatureEdit?(edit) }} on user
 *   actions (onApply: try a history, e.g. the counterfactual's, as a what-if edit;
 *   onFeatureEdit: add a `feature_edit` entry)
 */
export function createWhyView(links, on) {
  let expl = null;
  let method = null;
  let rows = [];
  let busy = false;

  const select = h("select", { class: "aw-method", "aria-label": "importance method" });
  const info = h("span", { class: "aw-method-info" });
  const agreement = h("div", { class: "aw-agreement" });
  const modelLine = h("div", { class: "aw-agreement-model" });
  const userLine = h("div", { class: "aw-agreement-user" });
  agreement.append(modelLine, userLine);
  const note = h("div", { class: "aw-note", role: "note" });
  const top = h("div", { class: "aw-why-top" });
  const list = h("ol", { class: "aw-importance-bars" });
  const missing = h("div", { class: "aw-why-missing" });
  const absent = h("div", { class: "aw-why-absent", text: "This explanation carries no importance scores." });
  const controls = h(
    "div",
    { class: "aw-why-controls" },
    h("label", { class: "aw-control" }, h("span", { class: "aw-control-name", text: "Importance by" }), select),
    info,
  );
  // "What would change it?": the verified counterfactual, one click from a what-if edit
  const cfText = h("span", { class: "aw-cf-text" });
  const cfApply = h("button", { class: "aw-cf-apply", type: "button", text: "Try it" });
  const counterfactual = h(
    "div",
    { class: "aw-counterfactual", hidden: true },
    h("span", { class: "aw-cf-label", text: "What would change it? " }),
    cfText,
    cfApply,
  );
  let cfHistory = null;
  cfApply.addEventListener("click", () => cfHistory && on.onApply?.(cfHistory));
  const head = h("div", { class: "aw-why-head" }, controls, agreement, note, top, counterfactual);
  const features = createFeatureEditor({ onEdit: (edit) => on.onFeatureEdit?.(edit) });
  const view = card("Why this recommendation", { className: "aw-why" });
  view.body.append(absent, head, list, missing, features.el);

  select.addEventListener("change", () => on.onMethod(select.value));
  // keyboard: one tab stop, ↑/↓ between rows, Enter/Space = click, Delete = remove (what-if)
  const roving = createRoving(list, {
    items: () => rows.map((r) => r.li),
    onActivate: (pos, shift) => links.click({ kind: "hist", pos }, shift),
    onFocus: (pos) => links.setHover(pos === null ? null : { kind: "hist", pos }),
    onDelete: (pos) => {
      const button = rows[pos]?.remove;
      if (button && !button.disabled) on.onRemove(pos);
    },
  });

  function row(item, pos) {
    const target = { kind: "hist", pos };
    const bar = h("span", { class: "aw-imp-bar" });
    const value = h("span", { class: "aw-imp-value" });
    const li = h(
      "li",
      { class: "aw-imp-row", "data-pos": pos },
      h("span", { class: "aw-imp-pos", text: String(pos + 1) }),
      h("span", { class: "aw-imp-title", title: item.label, text: item.label }),
      h("span", { class: "aw-imp-track" }, h("span", { class: "aw-imp-zero" }), bar),
      value,
    );
    if (pos === expl.n - 1) li.classList.add("aw-imp-last");
    const changed = (expl.whatIf?.featureChanges ?? []).filter((c) => c.position === pos);
    if (changed.length) {
      li.classList.add("aw-imp-edited");
      li.dataset.changed = changed.map((c) => `${c.field}: ${c.before} → ${c.after}`).join("; ");
    }
    if (expl.editable) {
      // not tab stops of their own (one per row): the focused row's Delete key removes, and
      // the feature form below the list is reachable with Tab
      const actions = h("span", { class: "aw-imp-actions" });
      if (features.available) {
        const edit = h("button", {
          class: "aw-feature-edit",
          type: "button",
          tabindex: "-1",
          text: "✎",
          title: `Change a feature of '${item.label}' (what if?)`,
          "aria-label": `Change a feature of '${item.label}' (what if?)`,
        });
        edit.addEventListener("click", (event) => {
          event.stopPropagation();
          features.openFor(pos);
        });
        actions.append(edit);
      }
      const remove = h("button", { class: "aw-remove", type: "button", tabindex: "-1", text: "×" });
      li.setAttribute("aria-keyshortcuts", "Delete");
      remove.addEventListener("click", (event) => {
        event.stopPropagation();
        on.onRemove(pos);
      });
      actions.append(remove);
      li.append(actions);
    }
    li.addEventListener("mouseenter", () => links.setHover(target));
    li.addEventListener("mouseleave", () => links.setHover(null));
    li.addEventListener("click", (event) => links.click(target, event.shiftKey));
    return { li, bar, value, remove: li.querySelector(".aw-remove") };
  }

  function updateRemoveButtons() {
    const last = rows.length <= 1;
    for (const [pos, r] of rows.entries()) {
      if (!r.remove) continue;
      r.remove.disabled = last || busy;
      const title = expl.history[pos].label;
      r.remove.title = last ? "A history needs at least one item" : `Remove '${title}' from the history (what if?)`;
      r.remove.setAttribute("aria-label", r.remove.title);
    }
  }

  function draw() {
    const imp = expl.importance;
    const values = imp.values.get(method);
    const pending = imp.pending.has(method);
    const layout = barLayout(values);
    list.dataset.method = method;
    list.classList.toggle("aw-imp-waiting", pending);
    const scale = layout.max || 1;
    for (const [i, b] of layout.bars.entries()) {
      const r = rows[i];
      r.li.classList.toggle("aw-imp-missing", b.missing);
      r.li.classList.toggle("aw-imp-negative", b.negative);
      r.li.classList.toggle("aw-imp-top", i === layout.top);
      r.li.style.setProperty("--aw-zero", `${(layout.zero * 100).toFixed(2)}%`);
      r.bar.style.left = `${(b.left * 100).toFixed(2)}%`;
      r.bar.style.width = b.missing ? "0%" : `${Math.max(b.width * 100, b.value ? 0.5 : 0).toFixed(2)}%`;
      r.bar.style.background = b.missing
        ? MISSING_CSS
        : b.negative
          ? NEGATIVE_CSS
          : cssAt(0.25 + (0.75 * b.value) / scale);
      r.value.textContent = b.missing ? (pending ? "…" : "n/a") : fmt(b.value);
      const changed = r.li.dataset.changed ? ` (what-if: ${r.li.dataset.changed})` : "";
      const where = `history item ${i + 1} of ${expl.n}${i === expl.n - 1 ? " (prediction position)" : ""}${changed}`;
      r.li.title = `${expl.history[i].label}\n${where}\n${method}: ${b.missing ? "n/a" : fmt(b.value, 4)}`;
      r.li.setAttribute(
        "aria-label",
        `${expl.history[i].label}, ${where}, ${method} importance ${b.missing ? "n/a" : fmt(b.value, 4)}`,
      );
    }
    list.dataset.drawCount = String(Number(list.dataset.drawCount ?? 0) + 1);
    top.textContent = pending
      ? `Computing ${method} scores… they follow in a moment.`
      : layout.top >= 0
        ? `Most important by ${method}: ${expl.history[layout.top].label}`
        : `No ${method} scores for this history.`;
    const notes = [];
    if (!pending && layout.missing && layout.missing < values.length)
      notes.push(`${layout.missing} item(s) without a ${method} score (n/a).`);
    if (layout.zero > 0) notes.push("Negative = the recommendation's score goes up without the item.");
    missing.textContent = notes.join(" ");
    missing.hidden = notes.length === 0;
    info.textContent = methodInfo(expl.header, method);
    const text = agreementText(imp, method);
    modelLine.textContent = text.model;
    userLine.textContent = text.user;
    userLine.hidden = !text.user;
    select.value = method;
  }

  function showCounterfactual(e) {
    const cf = e.counterfactual;
    const pending = e.importance?.pending.has("counterfactual");
    counterfactual.hidden = !cf && !pending;
    cfHistory = cf?.found ? cf.editedHistory : null;
    // a history edit drops feature edits: "Try it" would not show what the line says
    cfApply.hidden = !cfHistory || !e.editable || !!e.whatIf?.featureEdits.length;
    cfApply.disabled = busy;
    if (!cf) {
      cfText.textContent = pending ? "computing…" : "";
      return;
    }
    const target = e.target?.label ?? "it";
    if (!cf.found) {
      cfText.textContent = cf.message;
      return;
    }
    const names = cf.removed.map((r) => `'${r.title}'`);
    const list = names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : names[0];
    cfText.textContent = `without ${list}, ${target} drops from #${cf.rankBefore} to #${cf.rankAfter} (checked by re-scoring${cf.exhaustive ? "; no smaller set does it" : ""}). `;
    cfApply.setAttribute("aria-label", `Try the history without ${list} as a what-if edit`);
  }

  return {
    el: view.el,
    setExplanation(e) {
      expl = e;
      const imp = e.importance;
      absent.hidden = !!imp;
      head.hidden = !imp;
      missing.hidden = true;
      const target = e.target?.label;
      view.sub.textContent = target ? `of ${target}${e.whatIf ? " (edited history)" : ""}` : "";
      features.setExplanation(e); // first: the rows ask it whether it offers feature edits
      rows = e.history.map(row);
      list.replaceChildren(...rows.map((r) => r.li));
      roving.refresh();
      delete list.dataset.method;
      updateRemoveButtons();
      method = null;
      if (!imp) return;
      select.replaceChildren(
        ...imp.methods.map((m) => {
          const all = imp.values.get(m);
          const none = all.length > 0 && all.every((v) => !Number.isFinite(v));
          const state = imp.pending.has(m) ? " — computing…" : none ? " — n/a" : "";
          const text = `${m}${m === imp.default ? " (agrees best with occlusion)" : ""}${state}`;
          return h("option", { value: m, text });
        }),
      );
      note.textContent = imp.note ?? "";
      note.hidden = !imp.note;
      showCounterfactual(e);
    },
    /** Show `wanted` (falls back to the pack's default); returns the method shown. */
    setMethod(wanted) {
      if (!expl?.importance) return null;
      const next = expl.pickMethod(wanted);
      if (next !== method) {
        method = next;
        draw();
      }
      return method;
    },
    /** While an edit is on its way to the kernel the remove and try buttons are off. */
    setBusy(value) {
      busy = value;
      cfApply.disabled = value;
      features.setBusy(value);
      if (expl) updateRemoveButtons();
    },
    highlight(lit, selection) {
      for (const [pos, r] of rows.entries()) {
        r.li.classList.toggle("aw-lit", lit.positions.has(pos));
        r.li.classList.toggle("aw-sel", selection.has(pos));
      }
    },
  };
}

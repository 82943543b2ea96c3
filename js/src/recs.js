// View 5: the top-k recommendations with score and features.
import { card, fmt, h } from "./dom.js";
import { csvBlob, downloadBlob } from "./export.js";
import { createRoving } from "./keys.js";
import { featureValues } from "./links.js";

export function createRecsView(links) {
  let expl = null;
  let rows = [];
  const list = h("ol", { class: "aw-recs" });
  const empty = h("div", { class: "aw-recs-empty", text: "No recommendations in this pack." });
  const view = card("Recommendations", {
    className: "aw-recs-card",
    exportLabel: "CSV",
    exportWhat: "recommendations table",
    onExport: exportCsv,
  });
  view.body.append(list, empty);
  // keyboard: one tab stop, ↑/↓ between rows, Enter/Space = click (Shift = shift-click)
  const roving = createRoving(list, {
    items: () => rows,
    onActivate: (rank, shift) => links.click({ kind: "rec", rank }, shift),
    onFocus: (rank) => links.setHover(rank === null ? null : { kind: "rec", rank }),
  });

  function exportCsv() {
    if (!expl) return;
    const fields = expl.fields.filter((f) => f !== "item");
    const table = [["rank", "id", "title", "score", ...fields]];
    expl.recs.forEach((r, i) => {
      table.push([i + 1, r.id, r.title, r.score, ...fields.map((f) => r.features?.[f])]);
    });
    downloadBlob(csvBlob(table), `recommendations-${expl.user}.csv`);
  }

  /** The shopper's sentence under a recommendation: its parts set as text, titles in italics. */
  function reasonLine(reason) {
    const line = h("div", { class: "aw-rec-reason", title: reason.text });
    for (const [kind, text] of reason.parts) line.append(kind === "text" ? text : h("em", { text }));
    return line;
  }

  function row(rec, rank, entered) {
    const reason = expl.reasons[rank];
    const target = { kind: "rec", rank };
    const chips = featureValues(rec).map(([field, value]) => {
      const chip = h("span", { class: "aw-chip", text: `${field}: ${value}` });
      chip.addEventListener("mouseenter", () => links.setHover({ kind: "feat", field, value: String(value) }));
      chip.addEventListener("mouseleave", () => links.setHover(target));
      return chip;
    });
    const li = h(
      "li",
      {
        class: `aw-rec${entered ? " aw-rec-new" : ""}`,
        "data-rank": rank,
        "aria-label": `recommendation ${rank + 1}: ${rec.label}, score ${fmt(rec.score)}`,
      },
      h("span", { class: "aw-rank", text: String(rank + 1) }),
      h(
        "div",
        { class: "aw-rec-main" },
        h("div", { class: "aw-rec-title", title: rec.label, text: rec.label }),
        ...(reason ? [reasonLine(reason)] : []),
        h(
          "div",
          { class: "aw-rec-feats" },
          ...(entered ? [h("span", { class: "aw-chip aw-chip-new", text: "new in top-k" })] : []),
          ...chips,
        ),
      ),
      h("span", { class: "aw-score", title: "score", text: fmt(rec.score) }),
    );
    li.addEventListener("mouseenter", () => links.setHover(target));
    li.addEventListener("mouseleave", () => links.setHover(null));
    li.addEventListener("click", (event) => links.click(target, event.shiftKey));
    return li;
  }

  return {
    el: view.el,
    setExplanation(e) {
      expl = e;
      // after a what-if edit, the recommendations that entered the top-k are marked
      const entered = new Set((e.whatIf?.entered ?? []).map((r) => String(r.id)));
      rows = e.recs.map((rec, rank) => row(rec, rank, entered.has(String(rec.id))));
      list.replaceChildren(...rows);
      roving.refresh();
      empty.hidden = rows.length > 0;
      view.sub.textContent = rows.length
        ? `top ${rows.length}${e.whatIf ? ` · ${entered.size} new (what-if)` : ""}`
        : "";
    },
    highlight(lit) {
      rows.forEach((li, rank) => {
        li.classList.toggle("aw-lit", lit.ranks.has(rank));
      });
    },
  };
}

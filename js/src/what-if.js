// What-if history editing: remove items (buttons in the why panel), add one found by a
// search that the kernel answers (custom messages), go back to the user's own history,
// and show what changed (which recommendations entered or left the top-k).
// The edits themselves travel through the `history_edit` trait (see widget.js).
import { card, h } from "./dom.js";
import { describeFeatureEdit } from "./feature-edit.js";

export const SEARCH_DELAY_MS = 150;

/** `ids` without position `pos`; null when that would leave no item (or pos is out of range). */
export function removeAt(ids, pos) {
  if (!Number.isInteger(pos) || pos < 0 || pos >= ids.length || ids.length <= 1) return null;
  return ids.filter((_, i) => i !== pos);
}

/** `ids` with `id` appended (the newest item). */
export const appendId = (ids, id) => [...ids, String(id)];

/** Items removed from / added to `original` to get `current` (both id lists; repeats count). */
export function historyChange(original, current) {
  const count = new Map();
  for (const id of original) count.set(id, (count.get(id) ?? 0) + 1);
  let added = 0;
  for (const id of current) {
    const left = count.get(id) ?? 0;
    if (left > 0) count.set(id, left - 1);
    else added++;
  }
  let removed = 0;
  for (const left of count.values()) removed += left;
  return { removed, added };
}

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * The banner's sentence for a what-if pack (`what` = Explanation.whatIf, `ids` = the shown
 * history's ids, `k` = the top-k's size): what was removed/added and, for a feature what-if,
 * each changed feature in words ("brand of 'Canon EOS' → Lumora").
 */
export function bannerText(what, ids, k) {
  const { removed, added } = historyChange(what.originalHistory, ids);
  const moved = `${what.entered.length} recommendation(s) entered and ${what.left.length} left the top ${k}.`;
  if (!what.featureEdits.length) {
    return (
      `What-if: the views show an edited history (${plural(removed, "item")} removed, ${plural(added, "item")} added; ` +
      `the original has ${what.originalHistory.length}). ${moved}`
    );
  }
  const changes = what.featureEdits.map(describeFeatureEdit).join("; ");
  const parts = [`${plural(new Set(what.featureChanges.map((c) => c.position)).size, "history item")} changed`];
  if (removed || added) parts.push(`${plural(removed, "item")} removed, ${plural(added, "item")} added`);
  return `What-if: ${changes} (${parts.join("; ")}). ${moved}`;
}

/**
 * @param links shared highlight state
 * @param {{ onSearch(query), onAdd(id), onReset() }} on user actions
 * Returns { el (card), banner (for the top of the widget), setExplanation, showResults,
 * setBusy, highlight }.
 */
export function createWhatIf(links, on) {
  let expl = null;
  let timer = null;
  let busy = false;
  let enteredRows = [];

  // banner: the views show an edited history
  const bannerLine = h("span", { class: "aw-what-if-text" });
  const reset = h("button", { class: "aw-reset-history", type: "button", text: "Back to the original history" });
  reset.addEventListener("click", () => on.onReset());
  const banner = h("div", { class: "aw-what-if", role: "status" }, bannerLine, reset);
  banner.hidden = true;

  // add an item
  const input = h("input", {
    class: "aw-add-input",
    type: "search",
    spellcheck: "false",
    autocomplete: "off",
    placeholder: "add an item: search by title or id",
    "aria-label": "search an item to add to the history",
  });
  const results = h("ul", { class: "aw-search-results" });
  const searchNote = h("div", { class: "aw-search-note" });
  const adder = h("div", { class: "aw-add" }, input, searchNote, results);

  // change from the original
  const entered = h("ul", { class: "aw-entered" });
  const left = h("ul", { class: "aw-left" });
  const summary = h("div", { class: "aw-change-summary" });
  const change = h(
    "div",
    { class: "aw-change" },
    summary,
    h("div", { class: "aw-change-col" }, h("div", { class: "aw-change-head", text: "Entered the top-k" }), entered),
    h("div", { class: "aw-change-col" }, h("div", { class: "aw-change-head", text: "Left the top-k" }), left),
  );
  const hint = h("div", { class: "aw-what-if-hint" });
  const status = h("div", { class: "aw-what-if-status", "aria-live": "polite" });
  const view = card("What if the history were different?", { className: "aw-what-if-card" });
  view.body.append(hint, adder, status, change);

  function clearResults(text = "") {
    results.replaceChildren();
    searchNote.textContent = text;
    searchNote.hidden = !text;
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const query = input.value.trim();
    if (!query) return clearResults();
    timer = setTimeout(() => {
      searchNote.textContent = "searching…";
      searchNote.hidden = false;
      on.onSearch(query);
    }, SEARCH_DELAY_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") results.querySelector(".aw-search-result:not(:disabled)")?.click();
    else if (event.key === "Escape") {
      input.value = "";
      clearTimeout(timer);
      clearResults();
    }
  });

  function pick(item) {
    if (busy) return;
    input.value = "";
    clearResults();
    on.onAdd(String(item.id));
  }

  function itemList(list, items, linked) {
    const rows = items.map((item) => {
      const li = h("li", { text: item.label });
      if (linked) {
        const rank = expl.recs.findIndex((r) => String(r.id) === String(item.id));
        if (rank >= 0) {
          li.classList.add("aw-linked");
          li.addEventListener("mouseenter", () => links.setHover({ kind: "rec", rank }));
          li.addEventListener("mouseleave", () => links.setHover(null));
          li.addEventListener("click", (event) => links.click({ kind: "rec", rank }, event.shiftKey));
        }
        return { li, rank };
      }
      return { li, rank: -1 };
    });
    list.replaceChildren(...(rows.length ? rows.map((r) => r.li) : [h("li", { class: "aw-none", text: "none" })]));
    return rows;
  }

  function updateBusy() {
    input.disabled = busy || !expl?.editable;
    for (const b of results.querySelectorAll(".aw-search-result")) b.disabled = busy;
    reset.disabled = busy;
    status.textContent = busy ? "Updating the explanation…" : "";
    status.hidden = !busy;
  }

  return {
    el: view.el,
    banner,
    setExplanation(e) {
      expl = e;
      const what = e.whatIf;
      const editable = e.editable;
      view.el.hidden = !editable && !what;
      adder.hidden = hint.hidden = !editable;
      hint.textContent = e.featureValues?.values.size
        ? "Remove history items with × in the “why” panel, change their features with ✎ there (or the form under its list), or add one here: recommendations, attention and importance follow."
        : "Remove history items with × in the “why” panel or add one here: recommendations, attention and importance follow.";
      reset.hidden = !editable;
      banner.hidden = change.hidden = !what;
      enteredRows = [];
      if (what) {
        const k = what.originalRecs.length || e.recs.length;
        bannerLine.textContent = bannerText(what, e.historyIds(), k);
        summary.textContent = `Compared with the original top ${k}:`;
        enteredRows = itemList(entered, what.entered, true);
        itemList(left, what.left, false);
      }
      updateBusy();
    },
    /** A search reply from the kernel ({query, items, more}: at most 20 items, those whose id
     * or title starts with the query first); ignored when the box no longer holds its query. */
    showResults(msg) {
      const query = String(msg?.query ?? "");
      if (!expl?.editable || query !== input.value.trim() || !query) return false;
      const items = Array.isArray(msg.items) ? msg.items : [];
      const inHistory = new Set(expl.historyIds());
      results.replaceChildren(
        ...items.map((item) => {
          const title = String(item.title ?? item.id);
          const button = h(
            "button",
            { class: "aw-search-result", type: "button", title: `Add '${title}' as the newest history item` },
            h("span", { class: "aw-result-title", text: title }),
            h("span", {
              class: "aw-result-id",
              text: `${item.id}${inHistory.has(String(item.id)) ? " · in history" : ""}`,
            }),
          );
          button.disabled = busy;
          button.addEventListener("click", () => pick(item));
          return h("li", {}, button);
        }),
      );
      searchNote.textContent = !items.length
        ? `No item matches '${query}'.`
        : msg.more
          ? `The first ${items.length} matches: type more to narrow them.`
          : "";
      searchNote.hidden = !searchNote.textContent;
      return true;
    },
    setBusy(value) {
      busy = value;
      updateBusy();
    },
    highlight(lit) {
      for (const { li, rank } of enteredRows) li.classList.toggle("aw-lit", rank >= 0 && lit.ranks.has(rank));
    },
    destroy() {
      clearTimeout(timer);
    },
  };
}

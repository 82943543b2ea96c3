// Feature what-if: "what if this history item had another brand (category, price)?", or
// every history item sharing that value. A compact form in the why panel (item, field and
// value selects, an "every item with this value" box, Apply) whose edits travel through the
// `feature_edit` trait (see widget.js); the fields' vocabularies come in the pack header
// (header.feature_values; a field with too many values is not offered). Titles and values
// are set as text only.
import { h } from "./dom.js";

export const UNKNOWN = "<unknown>";

/**
 * A feature edit in plain words: "brand of 'Canon EOS' → Lumora",
 * "brand of every Aperta item → Kestrel", "price of every item → <unknown>".
 * @param {{ field: string, value: string, position: number | null, replaces: string | null, title?: string | null }} edit
 */
export function describeFeatureEdit(edit) {
  const where =
    edit.position !== null && edit.position !== undefined
      ? `'${edit.title ?? `item ${edit.position + 1}`}'`
      : edit.replaces !== null && edit.replaces !== undefined
        ? `every ${edit.replaces} item`
        : "every item";
  return `${edit.field} of ${where} → ${edit.value}`;
}

/**
 * The edit the form describes: one item's field (`{field, value, position}`), or with `all`
 * every history item whose field has that item's value (`{field, value, replaces}`). Null
 * when it would change nothing (the value is the item's own).
 */
export function featureEditOf({ position, field, value, current, all }) {
  if (value === current) return null;
  return all ? { field, value, replaces: current } : { field, value, position };
}

/** An item's value of `field` as the pack shows it (the edited one after a feature what-if). */
export const featureOf = (item, field) => String(item?.features?.[field] ?? UNKNOWN);

/** Positions whose item has `value` in `field` (what "every item with this value" changes). */
export function positionsWith(history, field, value) {
  const out = [];
  for (const [i, item] of history.entries()) if (featureOf(item, field) === value) out.push(i);
  return out;
}

/**
 * @param {{ onEdit(edit): void }} on `onEdit` gets a `feature_edit` entry to add
 * Returns { el, setExplanation(e), openFor(pos), setBusy(busy), available }.
 */
export function createFeatureEditor(on) {
  let expl = null;
  let busy = false;
  let shownKey = "";

  const item = h("select", { class: "aw-feature-item", "aria-label": "history item to change" });
  const field = h("select", { class: "aw-feature-field", "aria-label": "feature field to change" });
  const value = h("select", { class: "aw-feature-value", "aria-label": "new value of the field" });
  const all = h("input", { class: "aw-feature-all", type: "checkbox" });
  const allText = h("span", { class: "aw-feature-all-text" });
  const apply = h("button", { class: "aw-feature-apply", type: "button", text: "Apply" });
  const note = h("div", { class: "aw-feature-note" });
  const el = h(
    "div",
    { class: "aw-feature-editor", role: "group", "aria-label": "Change a feature of history items (what if?)" },
    h("span", { class: "aw-feature-words", text: "What if " }),
    item,
    h("span", { class: "aw-feature-words", text: " had " }),
    field,
    value,
    h("label", { class: "aw-feature-all-label" }, all, allText),
    apply,
    note,
  );
  el.hidden = true;

  const state = () => {
    const position = Number(item.value);
    const name = field.value;
    const current = featureOf(expl?.history[position], name);
    return { position, field: name, value: value.value, current, all: all.checked };
  };

  function fillValues() {
    const { position, field: name } = state();
    const values = expl?.featureValues?.values.get(name) ?? [];
    const current = featureOf(expl?.history[position], name);
    const options = values.includes(current) ? values : [current, ...values];
    value.replaceChildren(...options.map((v) => h("option", { value: v, text: v === current ? `${v} (now)` : v })));
    value.value = current;
    update();
  }

  function update() {
    const s = state();
    const same = expl ? positionsWith(expl.history, s.field, s.current).length : 0;
    allText.textContent = ` every history item with ${s.field} ${s.current} (${same})`;
    apply.disabled = busy || !featureEditOf(s);
    const edit = featureEditOf(s);
    const words = edit
      ? describeFeatureEdit({
          ...edit,
          position: edit.position ?? null,
          replaces: edit.replaces ?? null,
          title: expl.history[s.position]?.label,
        })
      : "";
    apply.title = edit ? `Show the recommendations with ${words}` : "Pick another value to apply";
    apply.setAttribute("aria-label", edit ? `Apply: ${words}` : "Apply (pick another value first)");
  }

  item.addEventListener("change", fillValues);
  field.addEventListener("change", fillValues);
  value.addEventListener("change", update);
  all.addEventListener("change", update);
  apply.addEventListener("click", () => {
    const edit = expl && !busy ? featureEditOf(state()) : null;
    if (edit) on.onEdit(edit);
  });

  /** Whether the shown pack offers feature edits (editable, with a field to offer). */
  const available = () => !!expl?.editable && (expl?.featureValues?.values.size ?? 0) > 0;

  return {
    el,
    get available() {
      return available();
    },
    setExplanation(e) {
      expl = e;
      const offered = e.featureValues;
      el.hidden = !available();
      if (el.hidden) return;
      // the same history (an answer to an edit from this form) keeps the form's choice
      const key = JSON.stringify([e.user, e.historyIds()]);
      const keep = key === shownKey ? { position: item.value, field: field.value } : { position: "", field: "" };
      shownKey = key;
      item.replaceChildren(
        ...e.history.map((it, i) => h("option", { value: String(i), text: `${i + 1}. ${it.label}` })),
      );
      field.replaceChildren(...[...offered.values.keys()].map((f) => h("option", { value: f, text: f })));
      // the newest item (the prediction position) unless the same history keeps the choice
      item.value = keep.position !== "" ? keep.position : String(e.n - 1);
      if (item.selectedIndex < 0) item.value = String(e.n - 1);
      if (offered.values.has(keep.field)) field.value = keep.field;
      all.checked = false;
      note.textContent = offered.omitted.length
        ? `Not offered (too many values to list here): ${offered.omitted.join(", ")}.`
        : "";
      note.hidden = !note.textContent;
      fillValues();
    },
    /** Point the form at history position `pos` and focus its field select (a row's ✎). */
    openFor(pos) {
      if (el.hidden || !expl || pos < 0 || pos >= expl.n) return;
      item.value = String(pos);
      fillValues();
      el.scrollIntoView?.({ block: "nearest" });
      field.focus();
    },
    setBusy(on_) {
      busy = on_;
      item.disabled = field.disabled = value.disabled = all.disabled = busy;
      if (expl && !el.hidden) update();
    },
  };
}

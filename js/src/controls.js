// View 1: user slider (over a window of the users) + search box, layer slider + rollout
// toggle, head slider + mean toggle. Callbacks fire on user input only; setUsers()/setView()
// move the controls without firing them.
import { h } from "./dom.js";
import { createUserSearch } from "./user-search.js";

function slider(className, label) {
  const input = h("input", { class: className, type: "range", min: 0, max: 0, step: 1, value: 0, "aria-label": label });
  const value = h("output", { class: "aw-value" });
  return { input, value };
}

function toggle(className, text) {
  const input = h("input", { class: className, type: "checkbox" });
  return { input, el: h("label", { class: "aw-toggle" }, input, text) };
}

// Thousands separators without toLocaleString: its first call loads ICU's locale data, which
// took 15-20 ms of a static page's first paint.
const count = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/**
 * @param {{ onUser(id: string): void, onUserSearch(query: string): void, onUserWindow(start: number): void,
 *   onLayer(i: number): void, onHead(i: number): void, onLayerMode(mode: string): void, onHeadMode(mode: string): void }} on
 */
export function createControls(on) {
  const user = slider("aw-user-slider", "user");
  const userBox = h("input", {
    class: "aw-user-input",
    type: "text",
    spellcheck: "false",
    autocomplete: "off",
    "aria-label": "user id: type to search users",
    placeholder: "user id: type to search",
  });
  const pageButton = (dir, text) => {
    const button = h("button", { class: "aw-user-page", type: "button", "data-dir": dir, text });
    button.addEventListener("click", () => on.onUserWindow(Math.max(windowStart + dir * users.length, 0)));
    return button;
  };
  const earlier = pageButton(-1, "‹");
  const later = pageButton(1, "›");
  const layer = slider("aw-layer-slider", "layer");
  const head = slider("aw-head-slider", "head");
  const rollout = toggle("aw-rollout-toggle", "rollout");
  const mean = toggle("aw-mean-toggle", "mean over heads");
  let users = [];
  let windowStart = 0;
  let current = "";
  const search = createUserSearch(userBox, {
    onSearch: (query) => on.onUserSearch(query),
    onPick: (id) => on.onUser(id),
    current: () => current,
  });

  const group = (name, ...children) =>
    h("div", { class: "aw-control" }, h("span", { class: "aw-control-name", text: name }), ...children);
  const el = h(
    "div",
    { class: "aw-controls" },
    group("User", earlier, user.input, later, search.el, user.value),
    group("Layer", layer.input, layer.value, rollout.el),
    group("Head", head.input, head.value, mean.el),
  );

  const int = (input) => Number.parseInt(input.value, 10) || 0;
  user.input.addEventListener("input", () => {
    userBox.value = users[int(user.input)] ?? "";
  });
  user.input.addEventListener("change", () => users.length && on.onUser(users[int(user.input)]));
  layer.input.addEventListener("input", () => on.onLayer(int(layer.input)));
  head.input.addEventListener("input", () => on.onHead(int(head.input)));
  rollout.input.addEventListener("change", () => on.onLayerMode(rollout.input.checked ? "rollout" : "layer"));
  mean.input.addEventListener("change", () => on.onHeadMode(mean.input.checked ? "mean" : "head"));

  return {
    el,
    /**
     * The ids the user slider runs over (a window of `total` users from `start`) and the
     * current one; ‹ › move the window when there are users outside it.
     * @param {{ ids: string[], start: number, total: number }} window
     * @param {string} shown
     */
    setUsers({ ids, start, total }, shown) {
      users = ids.map(String);
      windowStart = start;
      current = shown ?? "";
      const index = users.indexOf(current);
      user.input.max = Math.max(users.length - 1, 0);
      user.input.value = Math.max(index, 0);
      user.input.disabled = users.length < 2;
      if (!search.el.contains(document.activeElement)) userBox.value = current;
      const paged = total > users.length;
      earlier.hidden = later.hidden = !paged;
      earlier.disabled = start <= 0;
      later.disabled = start + users.length >= total;
      const size = count(users.length);
      earlier.setAttribute("aria-label", `previous ${size} users`);
      later.setAttribute("aria-label", `next ${size} users`);
      const where = index >= 0 ? count(start + index + 1) : `${count(start + 1)}–${count(start + users.length)}`;
      user.value.textContent = users.length ? `${where} of ${count(total)}` : "";
    },
    /** The kernel's (or the page's) answer to a user search. */
    showUserResults(msg) {
      return search.showResults(msg);
    },
    destroy() {
      search.destroy();
    },
    /** Show a view ({layer, head, layerMode, headMode}) for a pack with L layers and H heads. */
    setView(view, { L, H, hasRollout }) {
      const set = (s, v, n) => {
        s.input.max = Math.max(n - 1, 0);
        s.input.value = v;
        s.input.disabled = n < 2;
        s.value.textContent = `${v} of 0–${n - 1}`;
      };
      set(layer, view.layer, L);
      set(head, view.head, H);
      rollout.input.checked = view.layerMode === "rollout";
      rollout.input.disabled = !hasRollout;
      mean.input.checked = view.headMode === "mean";
      const headless = view.layerMode === "rollout";
      mean.input.disabled = headless || H < 2;
      if (headless) head.input.disabled = true;
      el.classList.toggle("aw-headless", headless);
    },
  };
}

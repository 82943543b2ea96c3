// View 1: user slider + id box, layer slider + rollout toggle, head slider + mean toggle.
// Callbacks fire on user input only; update() moves the controls without firing them.
import { h } from "./dom.js";

function slider(className, label) {
  const input = h("input", { class: className, type: "range", min: 0, max: 0, step: 1, value: 0, "aria-label": label });
  const value = h("output", { class: "aw-value" });
  return { input, value };
}

function toggle(className, text) {
  const input = h("input", { class: className, type: "checkbox" });
  return { input, el: h("label", { class: "aw-toggle" }, input, text) };
}

/**
 * @param {{ onUser(id), onLayer(i), onHead(i), onLayerMode(mode), onHeadMode(mode) }} on
 */
export function createControls(on) {
  const user = slider("aw-user-slider", "user");
  const userBox = h("input", {
    class: "aw-user-input",
    type: "text",
    spellcheck: "false",
    "aria-label": "user id",
    placeholder: "user id",
  });
  const layer = slider("aw-layer-slider", "layer");
  const head = slider("aw-head-slider", "head");
  const rollout = toggle("aw-rollout-toggle", "rollout");
  const mean = toggle("aw-mean-toggle", "mean over heads");
  let users = [];

  const group = (name, ...children) =>
    h("div", { class: "aw-control" }, h("span", { class: "aw-control-name", text: name }), ...children);
  const el = h(
    "div",
    { class: "aw-controls" },
    group("User", user.input, userBox, user.value),
    group("Layer", layer.input, layer.value, rollout.el),
    group("Head", head.input, head.value, mean.el),
  );

  const int = (input) => Number.parseInt(input.value, 10) || 0;
  user.input.addEventListener("input", () => {
    userBox.value = users[int(user.input)] ?? "";
  });
  user.input.addEventListener("change", () => users.length && on.onUser(users[int(user.input)]));
  userBox.addEventListener("change", () => userBox.value.trim() && on.onUser(userBox.value.trim()));
  userBox.addEventListener("keydown", (event) => event.key === "Enter" && userBox.blur());
  layer.input.addEventListener("input", () => on.onLayer(int(layer.input)));
  head.input.addEventListener("input", () => on.onHead(int(head.input)));
  rollout.input.addEventListener("change", () => on.onLayerMode(rollout.input.checked ? "rollout" : "layer"));
  mean.input.addEventListener("change", () => on.onHeadMode(mean.input.checked ? "mean" : "head"));

  return {
    el,
    /** The ids the user slider runs over and the current one. */
    setUsers(list, current) {
      users = list.map(String);
      const index = users.indexOf(current);
      user.input.max = Math.max(users.length - 1, 0);
      user.input.value = Math.max(index, 0);
      user.input.disabled = users.length < 2;
      if (document.activeElement !== userBox) userBox.value = current ?? "";
      user.value.textContent = users.length ? `${index >= 0 ? index + 1 : "–"} of ${users.length}` : "";
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

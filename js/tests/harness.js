// DOM test harness: a fake anywidget model and a mount() that renders the widget into jsdom.
// Import only from tests that run with `@vitest-environment jsdom`.
import { afterEach, beforeAll } from "vitest";
import widget from "../src/widget.js";
import { fixture } from "./helpers.js";

// jsdom has no canvas: a 2D context that accepts every call is enough to drive the views.
beforeAll(() => {
  const ctx = new Proxy(
    {
      measureText: (text) => ({ width: String(text).length * 6 }),
      createImageData: (w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
      createLinearGradient: () => ({ addColorStop() {} }),
    },
    { get: (target, key) => (key in target ? target[key] : () => {}), set: () => true },
  );
  HTMLCanvasElement.prototype.getContext = () => ctx;
});

/**
 * The part of the anywidget model API the widget uses; set() fires change events,
 * send() records custom messages in `sent`, emit(event, ...args) plays the kernel.
 */
export function fakeModel(state) {
  const handlers = new Map();
  return {
    state,
    saved: 0,
    sent: [],
    get: (name) => state[name],
    set(name, value) {
      const changed = state[name] !== value;
      state[name] = value;
      if (changed) this.emit(`change:${name}`);
    },
    save_changes() {
      this.saved++;
    },
    send(msg) {
      this.sent.push(msg);
    },
    emit(event, ...args) {
      for (const fn of handlers.get(event) ?? []) fn(...args);
    },
    on: (event, fn) => handlers.set(event, [...(handlers.get(event) ?? []), fn]),
    off: (event, fn) =>
      handlers.set(
        event,
        (handlers.get(event) ?? []).filter((f) => f !== fn),
      ),
    listenerCount: () => [...handlers.values()].reduce((a, l) => a + l.length, 0),
  };
}

export const view = (bytes) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export const defaults = () => ({
  user: "u1",
  user_window: ["u1", "u2"],
  user_window_start: 0,
  n_users: 2,
  layer: 0,
  head: 0,
  layer_mode: "layer",
  head_mode: "head",
  payload: view(fixture("sample.pack")),
  archive: new DataView(new ArrayBuffer(0)),
  error: "",
  selection: [],
  status: "",
  history_edit: [],
  feature_edit: [],
  method: "",
});

let cleanups = [];

/** Wait until the frame after the next paint, when the widget draws its feature heatmaps. */
export const painted = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

/** Render the widget for a fake model with `state` over the defaults. */
export function mount(state = {}) {
  const model = fakeModel({ ...defaults(), ...state });
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  cleanups.push(() => {
    cleanup();
    el.remove();
  });
  return { model, el, cleanup };
}

afterEach(() => {
  for (const fn of cleanups) fn();
  cleanups = [];
});

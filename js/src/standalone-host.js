// Host of the light standalone page (the explorer's static export, written by
// attnwidget/widget/standalone.py): no widget manager, no require.js, no network. The page
// holds the widget's trait values as JSON, its bytes traits as base64 and its ESM bundle as
// text; boot() builds a model over those values, imports the bundle from a Blob URL and
// calls the widget's render({ model, el }). Page layout: see js/README.md ("Static export").

/** Element ids and attributes of the page (standalone.py writes the same). */
export const PAGE = {
  view: "aw-view",
  state: "aw-state",
  esm: "aw-esm",
  buffer: "data-aw-buffer",
};

const isBinary = (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v);

function bytesOf(v) {
  return v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Backbone-like equality for trait values: JSON-like values by content, bytes by bytes. */
export function sameValue(a, b) {
  if (Object.is(a, b)) return true;
  if (isBinary(a) || isBinary(b)) {
    if (!isBinary(a) || !isBinary(b)) return false;
    const x = bytesOf(a);
    const y = bytesOf(b);
    return x.length === y.length && x.every((byte, i) => byte === y[i]);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameValue(a[k], b[k]));
  }
  return false;
}

/**
 * A model with the part of anywidget's model interface (AFM) a widget uses, over plain
 * values and with no kernel: get, set (fires "change:<name>" with (model, value), then
 * "change", synchronously, when the value differs, as Backbone does), on/off (several
 * space-separated events at once; off() with no event or no callback drops all that match),
 * save_changes (nothing to sync to: a no-op) and send (no kernel to receive it: the message
 * is dropped, with one console warning). A thrown callback is reported and the others still run.
 * @returns {import("./types.js").Model}
 */
export function createModel(state = {}) {
  const values = new Map(Object.entries(state));
  const listeners = new Map(); // event -> array of callbacks, in subscription order
  let warned = false;

  const emit = (event, ...args) => {
    for (const callback of [...(listeners.get(event) ?? [])]) {
      try {
        callback(...args);
      } catch (err) {
        if (typeof reportError === "function") reportError(err);
        else console.error(err);
      }
    }
  };
  const events = (names) => String(names).split(/\s+/).filter(Boolean);

  const model = {
    get: (name) => values.get(name),
    set(name, value) {
      if (values.has(name) && sameValue(values.get(name), value)) return;
      values.set(name, value);
      emit(`change:${name}`, model, value);
      emit("change", model);
    },
    on(names, callback) {
      if (typeof callback !== "function") return;
      for (const event of events(names)) {
        if (!listeners.has(event)) listeners.set(event, []);
        listeners.get(event).push(callback);
      }
    },
    off(names, callback) {
      const chosen = names ? events(names) : [...listeners.keys()];
      for (const event of chosen) {
        const kept = callback ? (listeners.get(event) ?? []).filter((fn) => fn !== callback) : [];
        if (kept.length) listeners.set(event, kept);
        else listeners.delete(event);
      }
    },
    save_changes() {},
    send() {
      if (warned) return;
      warned = true;
      console.warn("attnwidget: this page has no kernel; messages to Python are dropped");
    },
    /** Deliver a custom message as the kernel would ("msg:custom" listeners get (content, buffers)). */
    receive(content, buffers = []) {
      emit("msg:custom", content, buffers);
    },
  };
  return model;
}

/** Bytes of a base64 string: Uint8Array.fromBase64 where the browser has it, else atob. */
export function decodeBase64(text) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The page's trait values: the JSON state plus each bytes trait as a DataView. */
export function readState(doc = document) {
  const state = JSON.parse(doc.getElementById(PAGE.state).textContent);
  for (const block of doc.querySelectorAll(`script[${PAGE.buffer}]`)) {
    const bytes = decodeBase64(block.textContent.trim());
    state[block.getAttribute(PAGE.buffer)] = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return state;
}

/** Import an ESM source text (a Blob URL: works from file:// and with no network). */
export async function importText(source) {
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  try {
    return await import(/* @vite-ignore */ url);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Run an anywidget module (default export {initialize?, render} or a function returning it). */
export async function renderWidget(module, model, el) {
  const definition = typeof module.default === "function" ? await module.default() : module.default;
  if (!definition || typeof definition.render !== "function") {
    throw new TypeError("the widget module has no default export with a render function");
  }
  await definition.initialize?.({ model });
  const noKernel = () => Promise.reject(new Error("this page has no kernel"));
  return definition.render({ model, el, experimental: { invoke: noKernel } });
}

/**
 * Read the page, render the widget into #aw-view; a failure is shown in the page.
 * `module` is the widget's module when it is bundled with this host (the explorer's own
 * page: one inline script, nothing to import); without it, the page's aw-esm text is imported.
 */
export async function boot(doc = document, module = null) {
  const el = doc.getElementById(PAGE.view);
  try {
    let loading = module;
    if (!loading) {
      const esm = doc.getElementById(PAGE.esm);
      const source =
        esm.dataset.encoding === "base64"
          ? new TextDecoder().decode(decodeBase64(esm.textContent.trim()))
          : esm.textContent;
      loading = importText(source); // the import starts before the state is decoded
    }
    const model = createModel(readState(doc));
    await renderWidget(await loading, model, el);
    return model;
  } catch (err) {
    console.error("attnwidget:", err);
    el.textContent = `This page could not show the explorer: ${err?.message ?? err}`;
    return null;
  }
}

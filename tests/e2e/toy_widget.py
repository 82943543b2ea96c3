"""A tiny anywidget for testing the browser infrastructure (export, Voila, JupyterLab).

It mirrors the real widget's contract: float32 data arrives as a bytes trait, is decoded once into
a typed array and drawn on a ``<canvas>``, text goes in with ``textContent``, and each finished
draw bumps ``data-draw-count`` so tests can wait on the DOM instead of sleeping. The decoded values
are echoed in ``data-values`` so a test can check the bytes survived the trip.
"""

from __future__ import annotations

from collections.abc import Sequence

import anywidget
import numpy as np
import traitlets

ESM = """
function toFloat32(value) {
  if (value instanceof ArrayBuffer) return new Float32Array(value.slice(0));
  // DataView or typed array: copy, since the byte offset may not be 4-aligned.
  const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
  return new Float32Array(bytes.buffer);
}

function render({ model, el }) {
  const title = document.createElement("div");
  title.className = "toy-title";
  const canvas = document.createElement("canvas");
  canvas.className = "toy-canvas";
  canvas.width = 160;
  canvas.height = 80;
  let draws = 0;

  function draw() {
    const values = toFloat32(model.get("values"));
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#1f77b4";
    const w = canvas.width / Math.max(values.length, 1);
    values.forEach((v, i) => {
      const h = Math.max(0, Math.min(1, v)) * canvas.height;
      ctx.fillRect(i * w + 2, canvas.height - h, w - 4, h);
    });
    title.textContent = model.get("title");
    canvas.dataset.values = JSON.stringify(Array.from(values));
    canvas.dataset.drawCount = String(++draws);
  }

  model.on("change:values", draw);
  model.on("change:title", draw);
  el.append(title, canvas);
  draw();
  return () => {
    model.off("change:values", draw);
    model.off("change:title", draw);
  };
}

export default { render };
"""

DEFAULT_VALUES = (0.25, 1.0, 0.5, 0.75)
DEFAULT_TITLE = "Toy <b>not bold</b> & co"


class ToyWidget(anywidget.AnyWidget):
    """Bars from a float32 bytes trait plus a title."""

    _esm = ESM
    title = traitlets.Unicode("").tag(sync=True)
    values = traitlets.Bytes(b"").tag(sync=True)


def make_toy(title: str = DEFAULT_TITLE, values: Sequence[float] = DEFAULT_VALUES) -> ToyWidget:
    """A ToyWidget showing ``values`` (sent as little-endian float32 bytes) under ``title``."""
    return ToyWidget(title=title, values=np.asarray(values, dtype="<f4").tobytes())

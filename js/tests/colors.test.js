import { describe, expect, it } from "vitest";
import {
  DIVERGING_LUT,
  LUT,
  MISSING,
  cssAt,
  finiteMax,
  rgbAt,
  writeDivergingPixels,
  writePixels,
} from "../src/colors.js";
import { divergingScale } from "../src/scale.js";

// WCAG relative luminance of an sRGB triple.
const luminance = ([r, g, b]) => {
  const lin = (c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
};

describe("colour scale", () => {
  it("has viridis endpoints and clamps", () => {
    expect(rgbAt(0)).toEqual([0x44, 0x01, 0x54]);
    expect(rgbAt(1)).toEqual([0xfd, 0xe7, 0x25]);
    expect(rgbAt(-3)).toEqual(rgbAt(0));
    expect(rgbAt(7)).toEqual(rgbAt(1));
    expect(cssAt(1)).toBe("rgb(253,231,37)");
  });

  it("gets brighter along the scale (up to 8-bit rounding)", () => {
    const lum = (i) => luminance(LUT.slice(i * 3, i * 3 + 3));
    for (let i = 1; i < 256; i++) expect(lum(i)).toBeGreaterThan(lum(i - 1) - 1e-3);
    for (let i = 8; i < 256; i++) expect(lum(i)).toBeGreaterThan(lum(i - 8));
    expect(luminance(rgbAt(1)) / luminance(rgbAt(0))).toBeGreaterThan(20);
  });

  it("maps NaN to a missing colour that the scale never produces", () => {
    expect(rgbAt(NaN)).toBe(MISSING);
    for (let i = 0; i < 256; i++) expect(Array.from(LUT.slice(i * 3, i * 3 + 3))).not.toEqual(MISSING);
  });

  it("finds the largest finite value", () => {
    expect(finiteMax([0.1, NaN, 0.4, Infinity])).toBe(0.4);
    expect(finiteMax([NaN])).toBe(0);
  });
});

describe("writePixels", () => {
  it("colours cells, NaN and masked upper cells", () => {
    const values = Float32Array.from([1, 0, 0.5, NaN]); // 2 x 2
    const out = new Uint8ClampedArray(16);
    writePixels(values, 2, 1, out, true);
    expect(Array.from(out.slice(0, 4))).toEqual([...rgbAt(1), 255]);
    expect(out[7]).toBe(0); // (0, 1): zero above the diagonal -> transparent
    expect(Array.from(out.slice(8, 12))).toEqual([...rgbAt(0.5), 255]);
    expect(Array.from(out.slice(12, 16))).toEqual([...MISSING, 255]);
    writePixels(values, 2, 1, out, false);
    expect(Array.from(out.slice(4, 8))).toEqual([...rgbAt(0), 255]);
  });

  it("handles an all-zero matrix", () => {
    const out = new Uint8ClampedArray(4);
    writePixels(Float32Array.from([0]), 1, 0, out);
    expect(Array.from(out)).toEqual([...rgbAt(0), 255]);
  });
});

describe("diverging scale", () => {
  it("draws negative blue, zero near white, positive red, NaN grey, clamped at ±max", () => {
    const values = Float32Array.from([-2, 0, 2, NaN, 9]);
    const scale = divergingScale(values);
    expect(scale.max).toBe(9);
    const out = new Uint8ClampedArray(20);
    writeDivergingPixels(values, 2, out); // ±2: the 9 is clamped to +2's red
    const px = (i) => Array.from(out.slice(i * 4, i * 4 + 3));
    const [blue, white, red] = [px(0), px(1), px(2)];
    expect(blue[2]).toBeGreaterThan(blue[0] + 100);
    expect(red[0]).toBeGreaterThan(red[2] + 100);
    expect(Math.min(...white)).toBeGreaterThan(230);
    expect(px(3)).toEqual(MISSING);
    expect(px(4)).toEqual(red);
    expect(Array.from(out.filter((_, i) => i % 4 === 3))).toEqual([255, 255, 255, 255, 255]);
    expect(cssAt(0, DIVERGING_LUT)).toBe(`rgb(${blue.join(",")})`);
  });

  it("labels a symmetric range and survives all-NaN or all-zero values", () => {
    expect(divergingScale(Float32Array.from([-0.5, 0.25])).label).toBe("colour: −0.5 to +0.5");
    expect(divergingScale(Float32Array.from([NaN, Infinity])).max).toBe(0);
    const out = new Uint8ClampedArray(4);
    writeDivergingPixels(Float32Array.from([0]), 0, out);
    expect(Math.min(...out.slice(0, 3))).toBeGreaterThan(230);
  });
});

import { describe, expect, it } from "vitest";
import { PackError, decodeArchive, decodePack, float16Table, readHeader } from "../src/decode.js";
import { fmt } from "../src/dom.js";
import { chooseScale } from "../src/scale.js";
import { encodeArchive, encodePack, fixture, toHalf } from "./helpers.js";

describe("float16", () => {
  const t = float16Table();
  it("decodes normals, zeros, subnormals, inf and NaN", () => {
    expect(t[0x3c00]).toBe(1);
    expect(t[0xc000]).toBe(-2);
    expect(t[0x3555]).toBeCloseTo(0.33325, 5);
    expect(t[0x7bff]).toBe(65504); // largest finite
    expect(t[0x0400]).toBe(2 ** -14); // smallest normal
    expect(t[0x0001]).toBe(2 ** -24); // smallest subnormal
    expect(t[0x03ff]).toBe(1023 * 2 ** -24); // largest subnormal
    expect(t[0x0000]).toBe(0);
    expect(Object.is(t[0x8000], -0)).toBe(true);
    expect(t[0x7c00]).toBe(Infinity);
    expect(t[0xfc00]).toBe(-Infinity);
    expect(t[0x7e00]).toBeNaN();
    expect(t[0x7c01]).toBeNaN();
  });
  it("round-trips the test encoder", () => {
    for (const v of [0, 0.5, 0.125, 3, -7.5, 1e-6, 65504]) expect(t[toHalf(v)]).toBeCloseTo(v, 3);
  });
});

// A pack with hand-written array entries and 16 bytes of zero data.
function rawPack(arrays) {
  const json = new TextEncoder().encode(JSON.stringify({ arrays }));
  const out = new Uint8Array(((8 + json.length + 7) & ~7) + 16);
  out.set([65, 84, 87, 49]);
  new DataView(out.buffer).setUint32(4, json.length, true);
  out.set(json, 8);
  return out;
}

describe("decodePack", () => {
  it("reads the pack written by the Python encoder", () => {
    const { header, arrays } = decodePack(new DataView(fixture("sample.pack").buffer));
    expect(header.user).toBe("u1");
    expect(header.future_key).toEqual({ ignored: true });
    expect(header.history[0].title).toBe("<img src=x onerror=alert(1)>");
    expect(arrays.seq_attn.shape).toEqual([2, 2, 3, 3]);
    const seq = arrays.seq_attn.data;
    expect(seq).toBeInstanceOf(Float32Array);
    // layer 0 head 0: rows proportional to k + 1 over keys <= q
    expect(Array.from(seq.subarray(0, 9))).toEqual([
      1,
      0,
      0,
      expect.closeTo(1 / 3, 3),
      expect.closeTo(2 / 3, 3),
      0,
      expect.closeTo(1 / 6, 3),
      expect.closeTo(1 / 3, 3),
      expect.closeTo(0.5, 3),
    ]);
    expect(seq[((1 * 2 + 1) * 3 + 2) * 3 + 0]).toBeNaN();
    // NaN weights are counted while decoding, so the views need no pass of their own
    expect(arrays.seq_attn.nanCount).toBe(Array.from(seq).filter(Number.isNaN).length);
    expect(arrays.seq_attn.nanCount).toBeGreaterThan(0);
    expect(Array.from(arrays.feat_attn.data)).toEqual([
      0.5,
      0.25,
      0.25,
      expect.closeTo(0.2, 6),
      expect.closeTo(0.4, 6),
      expect.closeTo(0.4, 6),
      expect.closeTo(0.1, 6),
      expect.closeTo(0.6, 6),
      expect.closeTo(0.3, 6),
    ]);
    expect(arrays.importance.shape).toEqual([4, 3]); // float32 with NaN
    expect(arrays.importance.data[9]).toBe(0.75);
    expect(arrays.importance.data[11]).toBeNaN();
  });

  it("decodes a log12 matrix on first use, the same values as decoding it all", () => {
    const bytes = new DataView(fixture("sample.pack").buffer);
    const lazy = decodePack(bytes).arrays.seq_attn;
    const all = decodePack(bytes).arrays.seq_attn.data;
    const nn = 3 * 3;
    expect(Array.from(lazy.block(3))).toEqual(Array.from(all.subarray(3 * nn, 4 * nn)));
    expect(lazy.left).toBe(3); // only that matrix so far (of 2 x 2)
    expect(Array.from(lazy.block(0))).toEqual(Array.from(all.subarray(0, nn)));
    expect(Array.from(lazy.data)).toEqual(Array.from(all));
    expect(lazy.left).toBe(0);
    expect(lazy.block(3).buffer).toBe(lazy.data.buffer); // views, no copies
  });

  it("views aligned data and copies unaligned data", () => {
    const pack = encodePack({ user: "a" }, { x: { dtype: "float32", shape: [2], values: [1.5, -2] } });
    const aligned = decodePack(pack).arrays.x.data;
    expect(aligned.buffer).toBe(pack.buffer);
    const shifted = new Uint8Array(pack.length + 1);
    shifted.set(pack, 1);
    const view = new DataView(shifted.buffer, 1, pack.length);
    const copied = decodePack(view).arrays.x.data;
    expect(copied.buffer).not.toBe(shifted.buffer);
    expect(Array.from(copied)).toEqual([1.5, -2]);
    const half = encodePack({}, { h: { dtype: "float16", shape: [3], values: [1, 2, 3] } });
    const odd = new Uint8Array(half.length + 1);
    odd.set(half, 1);
    expect(Array.from(decodePack(odd.subarray(1)).arrays.h.data)).toEqual([1, 2, 3]);
  });

  it("reads int32 and uint8, skips unknown dtypes", () => {
    const pack = encodePack(
      {},
      {
        i: { dtype: "int32", shape: [2], values: [-3, 7] },
        u: { dtype: "uint8", shape: [3], values: [0, 128, 255] },
      },
    );
    const { arrays } = decodePack(pack.buffer);
    expect(Array.from(arrays.i.data)).toEqual([-3, 7]);
    expect(Array.from(arrays.u.data)).toEqual([0, 128, 255]);
    expect(decodePack(rawPack({ z: { dtype: "bfloat16", shape: [1], offset: 0, nbytes: 2 } })).arrays).toEqual({});
  });

  it("rejects malformed input with PackError", () => {
    const good = encodePack({ user: "a" }, { x: { dtype: "float32", shape: [4], values: [1, 2, 3, 4] } });
    const bad = (data) => () => decodePack(data);
    expect(bad(new Uint8Array([1, 2, 3]))).toThrow(PackError);
    expect(bad(new TextEncoder().encode("NOPE1234"))).toThrow(/magic/);
    expect(bad("ATW1")).toThrow(/bytes/);
    expect(bad(good.subarray(0, 12))).toThrow(/truncated pack: header/);
    expect(bad(good.subarray(0, good.length - 4))).toThrow(/truncated pack: array "x"/);
    const broken = good.slice();
    broken[8] = 0x5b; // "[" -> invalid JSON
    expect(bad(broken)).toThrow(/JSON/);
    expect(bad(rawPack([]))).toThrow(/"arrays" must be/);
    expect(bad(encodePack({}))).not.toThrow();
  });

  it("rejects inconsistent array entries", () => {
    const mk = (spec) => rawPack({ x: spec });
    expect(() => decodePack(mk({ dtype: "float32", shape: [2], offset: 0, nbytes: 12 }))).toThrow(/nbytes/);
    expect(() => decodePack(mk({ dtype: "float32", shape: [-1], offset: 0, nbytes: 4 }))).toThrow(/shape/);
    expect(() => decodePack(mk({ dtype: "float32", shape: [2], offset: -8, nbytes: 8 }))).toThrow(/offset/);
    expect(() => decodePack(mk({ dtype: "float32", shape: [8], offset: 0, nbytes: 32 }))).toThrow(/truncated/);
  });
});

describe("archives", () => {
  it("splits the Python-made archive", () => {
    const packs = decodeArchive(fixture("sample.archive"));
    expect(packs.map((p) => readHeader(p).user)).toEqual(["u1", "u2", "u3"]);
    expect(packs.every((p) => p.byteOffset % 8 === 0)).toBe(true);
    expect(Array.from(packs[0])).toEqual(Array.from(fixture("sample.pack")));
    expect(decodePack(packs[2]).arrays.seq_attn.shape).toEqual([1, 1, 0, 0]);
  });

  it("round-trips the JS encoder and reports truncation", () => {
    const packs = [encodePack({ user: "a" }), new Uint8Array([1, 2, 3]), encodePack({ user: "b" })];
    const archive = encodeArchive(packs);
    expect(decodeArchive(archive).map((p) => Array.from(p))).toEqual(packs.map((p) => Array.from(p)));
    expect(decodeArchive(encodeArchive([]))).toEqual([]);
    expect(() => decodeArchive(archive.subarray(0, archive.length - 1))).toThrow(/pack 2/);
    expect(() => decodeArchive(archive.subarray(0, 10))).toThrow(/lengths/);
    expect(() => decodeArchive(encodePack({}))).toThrow(/magic/);
  });
});

describe("log12 attention codes", () => {
  const { header, arrays } = decodePack(fixture("precision.pack"));
  const decoded = arrays.seq_attn.data;
  const exact = arrays.exact.data;
  const [L, H, n] = arrays.seq_attn.shape;

  it("decodes the Python encoder's codes within 0.17 % of every weight (lower triangle)", () => {
    expect(header.arrays.seq_attn).toMatchObject({ dtype: "log12", layout: "lower" });
    expect(decoded).toBeInstanceOf(Float32Array);
    expect(decoded.length).toBe(exact.length);
    let worst = 0;
    for (let m = 0; m < L * H; m++) {
      for (let q = 0; q < n; q++) {
        const row = m * n * n + q * n;
        let max = 0;
        for (let k = 0; k < n; k++) max = Math.max(max, exact[row + k]);
        for (let k = 0; k < n; k++) {
          const [a, b] = [exact[row + k], decoded[row + k]];
          // above the diagonal: not sent, zero
          if (k > q) expect(b).toBe(0);
          else if (a >= max * 1e-6) worst = Math.max(worst, Math.abs(b - a) / a);
          else expect(Math.abs(b - a)).toBeLessThanOrEqual(max * 1.01e-6);
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(0.0017);
    expect(worst).toBeGreaterThan(0); // the codes are lossy: this test can fail
  });

  it("moves a heatmap colour by at most one level and a tooltip by at most 2 units of its last digit", () => {
    for (let m = 0; m < L * H; m++) {
      const a = exact.subarray(m * n * n, (m + 1) * n * n);
      const b = decoded.subarray(m * n * n, (m + 1) * n * n);
      const scale = chooseScale(a, n, n, { causal: true });
      for (let i = 0; i < a.length; i++) {
        const level = (v) => Math.round(Math.min(Math.max(v / scale.max, 0), 1) * 255);
        expect(Math.abs(level(a[i]) - level(b[i]))).toBeLessThanOrEqual(1);
        if (a[i] >= 1e-3) {
          const unit = 10 ** (Math.floor(Math.log10(a[i])) - 2);
          expect(Math.abs(Number(fmt(b[i])) - Number(fmt(a[i]))) / unit).toBeLessThanOrEqual(2.0001);
        }
      }
    }
  });

  it("rejects a bad layout, grid or size, and packs from a newer schema", () => {
    const pack = fixture("precision.pack");
    const edited = (change) => {
      const head = readHeader(pack);
      Object.assign(head.arrays.seq_attn, change);
      const start = (8 + new DataView(pack.buffer, pack.byteOffset).getUint32(4, true) + 7) & ~7;
      const json = new TextEncoder().encode(JSON.stringify(head));
      const at = (8 + json.length + 7) & ~7;
      const out = new Uint8Array(at + pack.length - start);
      out.set(pack.subarray(0, 4));
      new DataView(out.buffer).setUint32(4, json.length, true);
      out.set(json, 8);
      out.set(pack.subarray(start), at);
      return out;
    };
    expect(() => decodePack(edited({ layout: "upper" }))).toThrow(/layout/);
    expect(() => decodePack(edited({ shape: [4, 2, 40, 41] }))).toThrow(/square/);
    expect(() => decodePack(edited({ steps: 9999 }))).toThrow(/grid/);
    expect(() => decodePack(edited({ nbytes: 12 }))).toThrow(/nbytes/);
    expect(() => decodePack(edited({ shape: [4, 2, 40, 40] }))).not.toThrow();
    expect(() => decodePack(encodePack({ schema: 3 }))).toThrow(/schema 3 is newer/);
    expect(() => decodePack(encodePack({ schema: 1 }))).not.toThrow();
  });
});

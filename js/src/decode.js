// Binary packs and archives (layout in js/README.md) -> JSON header + typed arrays.
// Arrays are decoded once; float16 goes through a 65536-entry lookup table since
// Float16Array is not available everywhere, and 12-bit log codes (attention weights, see
// attnwidget/widget/log12.py) through a 4096-entry one, a matrix at a time when first used. Typed-array views assume a
// little-endian host, which every browser is.

export class PackError extends Error {
  constructor(message) {
    super(message);
    this.name = "PackError";
  }
}

const PACK_MAGIC = "ATW1";
const ARCHIVE_MAGIC = "ATWA";
/** The newest header schema this decoder reads (2: log12 arrays); older packs decode too. */
export const SCHEMA = 2;
const ITEM_SIZE = { float16: 2, float32: 4, int32: 4, uint8: 1 };
const LOG12_NAN = 4095;

let halfTable = null;

/** Float32Array mapping every float16 bit pattern to its value (built on first use). */
export function float16Table() {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exp = (bits >> 10) & 0x1f;
    const frac = bits & 0x3ff;
    let value;
    // zero and subnormals, infinities and NaN, normal numbers
    if (exp === 0) value = frac * 2 ** -24;
    else if (exp === 31) value = frac ? NaN : Infinity;
    else value = (1 + frac / 1024) * 2 ** (exp - 15);
    halfTable[bits] = sign * value;
  }
  return halfTable;
}

/** Uint8Array over any DataView / typed array / ArrayBuffer; null for anything else. */
export function asBytes(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

const align8 = (n) => (n + 7) & ~7;
const u32 = (bytes, at) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at, true);
const ascii = (bytes, at, len) => String.fromCharCode(...bytes.subarray(at, at + len));

function checkedBytes(data, magic, what) {
  const bytes = asBytes(data);
  if (!bytes) throw new PackError(`${what} must be bytes, got ${typeof data}`);
  if (bytes.byteLength < 8 || ascii(bytes, 0, 4) !== magic) {
    throw new PackError(`not an attnwidget ${what}: expected magic "${magic}"`);
  }
  return bytes;
}

function parseHeader(bytes) {
  const size = u32(bytes, 4);
  if (8 + size > bytes.byteLength) {
    throw new PackError(`truncated pack: header needs ${size} bytes, ${bytes.byteLength - 8} left`);
  }
  let header;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + size)));
  } catch (err) {
    throw new PackError(`pack header is not valid UTF-8 JSON: ${err.message}`);
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) {
    throw new PackError("pack header must be a JSON object");
  }
  if (Number.isInteger(header.schema) && header.schema > SCHEMA) {
    throw new PackError(
      `pack schema ${header.schema} is newer than this front end reads (${SCHEMA}): reload the page after upgrading attnwidget`,
    );
  }
  return { header, start: align8(8 + size) };
}

/**
 * Header of a pack without decoding its arrays.
 * @returns {import("./types.js").PackHeader}
 */
export function readHeader(data) {
  return parseHeader(checkedBytes(data, PACK_MAGIC, "pack")).header;
}

// A view when the array is aligned in memory, a copy otherwise.
function typedView(Type, bytes, at, count) {
  const abs = bytes.byteOffset + at;
  if (abs % Type.BYTES_PER_ELEMENT === 0) return new Type(bytes.buffer, abs, count);
  return new Type(bytes.slice(at, at + count * Type.BYTES_PER_ELEMENT).buffer);
}

const log12Tables = new Map();

/** Code -> value / row max for a log12 grid: 0, then `steps + 1` log-spaced levels, NaN. */
export function log12Table(decades, steps) {
  const key = `${decades}/${steps}`;
  if (!log12Tables.has(key)) {
    const table = new Float32Array(LOG12_NAN + 1).fill(NaN);
    table[0] = 0;
    for (let code = 1; code <= steps + 1; code++) table[code] = 10 ** (((code - steps - 1) * decades) / steps);
    log12Tables.set(key, table);
  }
  return log12Tables.get(key);
}

function log12Count(shape, lower) {
  const n = shape[shape.length - 1];
  if (n === 0) return 0;
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return lower ? (rows / n) * ((n * (n + 1)) / 2) : rows * n;
}

function checkLog12(name, spec) {
  const { shape, layout, decades = 6, steps = 4093 } = spec;
  const lower = layout === "lower";
  if (shape.length < 2 || !(lower || layout === "full" || layout === undefined)) {
    throw new PackError(`array "${name}": log12 needs ≥ 2 dims and layout "full" or "lower"`);
  }
  if (lower && shape[shape.length - 1] !== shape[shape.length - 2]) {
    throw new PackError(`array "${name}": the lower layout needs square matrices, got [${shape}]`);
  }
  if (
    !(
      Number.isFinite(decades) &&
      decades > 0 &&
      decades <= 38 &&
      Number.isInteger(steps) &&
      steps >= 1 &&
      steps <= 4093
    )
  ) {
    throw new PackError(`array "${name}": bad log12 grid (decades ${decades}, steps ${steps})`);
  }
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return {
    lower,
    rows,
    table: log12Table(decades, steps),
    nbytes: 4 * rows + 3 * Math.ceil(log12Count(shape, lower) / 2),
  };
}

/**
 * A log12 array, decoded one matrix (its last two dimensions) at a time, when first asked
 * for: a view shows one layer and head, so opening a pack decodes one of L x H matrices.
 * Layout: row maxima (float32), then two 12-bit codes in every three bytes; the lower
 * layout holds each row up to the diagonal (zeros above it). `data` decodes the rest.
 */
class Log12Array {
  constructor(bytes, at, shape, { lower, rows, table }) {
    this.dtype = "float32";
    this.shape = shape;
    const n = shape[shape.length - 1];
    const perBlock = shape[shape.length - 2];
    this.n = n;
    this.lower = lower;
    this.table = table;
    this.rowsPerBlock = perBlock;
    this.codesPerBlock = lower ? (n * (n + 1)) / 2 : perBlock * n;
    this.scales = typedView(Float32Array, bytes, at, rows);
    this.codes = bytes.subarray(at + 4 * rows);
    this.values = new Float32Array(rows * n);
    this.decoded = new Uint8Array(perBlock ? rows / perBlock : 0);
    this.left = this.decoded.length;
    this.nan = 0;
  }

  /** Matrix `index` (row-major over the leading dimensions) as a view into `data`. */
  block(index) {
    const size = this.rowsPerBlock * this.n;
    if (!this.decoded[index]) {
      const { n, lower, table, scales, codes: b, values: out } = this;
      let i = index * this.codesPerBlock; // index of the block's first code
      let nan = 0;
      for (let r = index * this.rowsPerBlock, last = r + this.rowsPerBlock; r < last; r++) {
        const m = scales[r];
        const base = r * n;
        const end = base + (lower ? (r % n) + 1 : n);
        for (let k = base; k < end; k++, i++) {
          const p = (i >> 1) * 3;
          const code = i & 1 ? (b[p + 1] >> 4) | (b[p + 2] << 4) : b[p] | ((b[p + 1] & 15) << 8);
          if (code === LOG12_NAN) nan++;
          out[k] = m * table[code];
        }
      }
      this.nan += nan;
      this.decoded[index] = 1;
      this.left--;
    }
    return this.values.subarray(index * size, (index + 1) * size);
  }

  /** Every value (decodes the matrices not decoded yet). */
  get data() {
    for (let index = 0; this.left > 0 && index < this.decoded.length; index++) this.block(index);
    return this.values;
  }

  /** NaN weights (decodes every matrix). */
  get nanCount() {
    return this.data && this.nan;
  }
}

function readArray(bytes, start, name, spec) {
  const { dtype, shape, offset, nbytes } = spec;
  const okShape = Array.isArray(shape) && shape.every((s) => Number.isInteger(s) && s >= 0);
  if (!okShape || !Number.isInteger(offset) || offset < 0) {
    throw new PackError(`array "${name}": bad shape or offset`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const log12 = dtype === "log12" ? checkLog12(name, spec) : null;
  if (nbytes !== (log12 ? log12.nbytes : count * ITEM_SIZE[dtype])) {
    throw new PackError(`array "${name}": nbytes ${nbytes} does not match shape [${shape}]`);
  }
  const at = start + offset;
  if (at + nbytes > bytes.byteLength) {
    throw new PackError(`truncated pack: array "${name}" runs past the end of the data`);
  }
  let data;
  if (log12) return new Log12Array(bytes, at, shape, log12);
  if (dtype === "float16") {
    const bits = typedView(Uint16Array, bytes, at, count);
    const table = float16Table();
    data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = table[bits[i]];
  } else if (dtype === "float32") data = typedView(Float32Array, bytes, at, count);
  else if (dtype === "int32") data = typedView(Int32Array, bytes, at, count);
  else data = bytes.subarray(at, at + count);
  return { dtype, shape, data };
}

/**
 * Decode a pack into { header, arrays }, arrays[name] = { dtype, shape, data }.
 * Arrays with an unknown dtype are skipped; malformed input throws PackError.
 * @returns {import("./types.js").DecodedPack}
 */
export function decodePack(data) {
  const bytes = checkedBytes(data, PACK_MAGIC, "pack");
  const { header, start } = parseHeader(bytes);
  const specs = header.arrays ?? {};
  if (typeof specs !== "object" || Array.isArray(specs)) {
    throw new PackError('pack header "arrays" must be a JSON object');
  }
  const arrays = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (spec && (ITEM_SIZE[spec.dtype] || spec.dtype === "log12")) arrays[name] = readArray(bytes, start, name, spec);
  }
  return { header, arrays };
}

/** Split an archive into its packs (Uint8Array views, no copies). */
export function decodeArchive(data) {
  const bytes = checkedBytes(data, ARCHIVE_MAGIC, "archive");
  const count = u32(bytes, 4);
  if (8 + 4 * count > bytes.byteLength) {
    throw new PackError(`truncated archive: ${count} pack lengths do not fit`);
  }
  const packs = [];
  let pos = 8 + 4 * count;
  for (let i = 0; i < count; i++) {
    const length = u32(bytes, 8 + 4 * i);
    pos = align8(pos);
    if (pos + length > bytes.byteLength) {
      throw new PackError(`truncated archive: pack ${i} runs past the end`);
    }
    packs.push(bytes.subarray(pos, pos + length));
    pos += length;
  }
  return packs;
}

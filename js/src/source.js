// Where explanations come from: the live `payload` trait, or the `archive` trait of a
// static export (several users' packs, decoded locally on demand and cached).
import { asBytes, decodeArchive, readHeader } from "./decode.js";
import { Explanation } from "./explanation.js";

export class PackSource {
  constructor() {
    this.packs = new Map(); // user id -> pack bytes (archive mode)
    this.cache = new Map(); // user id -> Explanation
    this.payload = { bytes: null, expl: null };
  }

  /** Whether an archive is in use (then the user list and switching are local). */
  get archived() {
    return this.packs.size > 0;
  }

  /** User ids in the archive, in archive order. */
  get users() {
    return [...this.packs.keys()];
  }

  /** Index an archive (empty/null clears it). Throws PackError when malformed. */
  setArchive(data) {
    this.packs.clear();
    this.cache.clear();
    const bytes = asBytes(data);
    if (!bytes?.byteLength) return;
    for (const pack of decodeArchive(bytes)) this.packs.set(String(readHeader(pack).user ?? ""), pack);
  }

  has(user) {
    return this.packs.has(user);
  }

  /** Whether an archived user's pack is decoded already. */
  decoded(user) {
    return this.cache.has(user);
  }

  /** Explanation of an archived user (decoded once). */
  fromArchive(user) {
    if (!this.cache.has(user)) this.cache.set(user, Explanation.fromBytes(this.packs.get(user)));
    return this.cache.get(user);
  }

  /** Explanation of the payload trait (null when empty); same bytes -> same object. */
  fromPayload(data) {
    const bytes = asBytes(data);
    if (!bytes?.byteLength) return null;
    const same = this.payload.bytes;
    if (
      same &&
      same.buffer === bytes.buffer &&
      same.byteOffset === bytes.byteOffset &&
      same.byteLength === bytes.byteLength
    ) {
      return this.payload.expl;
    }
    const expl = Explanation.fromBytes(bytes);
    this.payload = { bytes, expl };
    return expl;
  }
}

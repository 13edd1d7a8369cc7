/**
 * The host side of the preimage oracle (docs/VM.md): key derivation for the three key types,
 * pluggable sources of preimage data, and the 32-byte parts of the `uint64_be(len) || data`
 * stream that the VM reads.
 * @module
 */
import { OpmlError } from "../errors.ts";
import { hash64, hashPair, keccak256, ZERO_HASHES } from "./keccak.ts";

/** The first byte of a preimage key. */
export const KeyType = { Local: 1, Keccak256: 2, MerkleData: 3 } as const;

/**
 * A local key: type 1 followed by the 31-byte big-endian identifier.
 *
 * @example
 * ```ts
 * const key = localKey(1); // 0x01000...0001
 * ```
 */
export function localKey(ident: number | bigint): Uint8Array {
  const key = new Uint8Array(32);
  let v = BigInt(ident);
  for (let i = 31; i >= 1; i--, v >>= 8n) key[i] = Number(v & 0xffn);
  key[0] = KeyType.Local;
  return key;
}

/**
 * The keccak256 key of `data`: its hash with the first byte set to 2.
 *
 * @example
 * ```ts
 * const key = keccakKey(new TextEncoder().encode("hello"));
 * ```
 */
export function keccakKey(data: Uint8Array): Uint8Array {
  const key = keccak256(data);
  key[0] = KeyType.Keccak256;
  return key;
}

/** Data below this size is hashed in TypeScript even with an accelerator (a call costs more). */
export const ACCELERATE_MIN_BYTES = 64 * 1024;

let rootAccelerator: ((data: Uint8Array) => Uint8Array) | undefined;

/**
 * Sets (or, with undefined, removes) a faster implementation of {@link merkleDataRoot} for data
 * of at least {@link ACCELERATE_MIN_BYTES}: the C code of core/runtime through FFI
 * (core/compiler/native_keys.ts), some 50x faster than TypeScript. It must give the same bits.
 *
 * @example
 * ```ts
 * setMerkleRootAccelerator((d) => nativeRoot(d));
 * ```
 */
export function setMerkleRootAccelerator(f: ((data: Uint8Array) => Uint8Array) | undefined): void {
  rootAccelerator = f;
}

/**
 * The accelerator set by {@link setMerkleRootAccelerator}, if any, for callers that hash many
 * small pieces (core/vm/memory.ts: 4 KiB pages) and call it below ACCELERATE_MIN_BYTES.
 */
export function merkleRootAccelerator(): ((data: Uint8Array) => Uint8Array) | undefined {
  return rootAccelerator;
}

/**
 * The binary keccak Merkle root of `data` cut into 32-byte leaves (last one zero-padded, empty
 * data is one zero leaf), the leaf count padded to a power of two with zero subtrees.
 *
 * @example
 * ```ts
 * const root = merkleDataRoot(new Uint8Array(100)); // 4 zero leaves: ZERO_HASHES[2]
 * ```
 */
export function merkleDataRoot(data: Uint8Array): Uint8Array {
  if (rootAccelerator && data.length >= ACCELERATE_MIN_BYTES) return rootAccelerator(data);
  const leaves = Math.max(1, Math.ceil(data.length / 32));
  let level = new Uint8Array(leaves * 32);
  level.set(data);
  for (let h = 0; level.length > 32; h++) {
    const n = level.length / 32;
    const next = new Uint8Array(Math.ceil(n / 2) * 32);
    const even = n & ~1;
    for (let i = 0; i < even; i += 2) hash64(level, 32 * i, next, 16 * i);
    // an odd node out is paired with the zero subtree of its height
    if (n & 1) next.set(hashPair(level.subarray(32 * (n - 1)), ZERO_HASHES[h]), 16 * (n - 1));
    level = next;
  }
  return level;
}

/**
 * The Merkle-data key of `data`: `0x03 || keccak256(root || uint64_be(len))[1..32]`.
 *
 * @example
 * ```ts
 * const key = merkleDataKey(new Uint8Array(1 << 20));
 * ```
 */
export function merkleDataKey(data: Uint8Array): Uint8Array {
  return merkleDataKeyOf(merkleDataRoot(data), data.length);
}

/** The Merkle-data key for a known root and length. */
export function merkleDataKeyOf(root: Uint8Array, length: number): Uint8Array {
  const buf = new Uint8Array(40);
  buf.set(root, 0);
  new DataView(buf.buffer).setBigUint64(32, BigInt(length));
  const key = keccak256(buf);
  key[0] = KeyType.MerkleData;
  return key;
}

/** Where preimages come from: returns the data for a key, or undefined if unknown. */
export interface PreimageSource {
  get(key: Uint8Array): Uint8Array | undefined;
}

/** Hex of a key, `0x`-prefixed: the map key of the sources and the form in messages. */
export function keyHex(key: Uint8Array): string {
  let s = "0x";
  for (const b of key) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * An in-memory preimage source. `add` derives the key for keccak and Merkle-data preimages;
 * `set` stores local data under its raw key.
 *
 * @example
 * ```ts
 * const src = new MapSource();
 * const key = src.add(new Uint8Array([1, 2, 3]), "keccak");
 * src.set(localKey(0), new Uint8Array([9]));
 * ```
 */
export class MapSource implements PreimageSource {
  #map = new Map<string, Uint8Array>();

  /** Stores `data` under `key` as given. */
  set(key: Uint8Array, data: Uint8Array): void {
    this.#map.set(keyHex(key), data);
  }

  /** Stores `data` under its derived key of the given kind and returns the key. */
  add(data: Uint8Array, kind: "keccak" | "merkle"): Uint8Array {
    const key = kind === "keccak" ? keccakKey(data) : merkleDataKey(data);
    this.set(key, data);
    return key;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.#map.get(keyHex(key));
  }
}

/**
 * Preimages stored as files named by their key's hex (`0x...`, 66 characters) in one folder.
 *
 * @example
 * ```ts
 * const src = new DirSource("./preimages");
 * ```
 */
export class DirSource implements PreimageSource {
  constructor(readonly dir: string) {}

  get(key: Uint8Array): Uint8Array | undefined {
    try {
      return Deno.readFileSync(`${this.dir}/${keyHex(key)}`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
  }
}

/** Several sources, asked in order. */
export class ChainedSource implements PreimageSource {
  constructor(readonly sources: PreimageSource[]) {}

  get(key: Uint8Array): Uint8Array | undefined {
    for (const s of this.sources) {
      const d = s.get(key);
      if (d !== undefined) return d;
    }
    return undefined;
  }
}

/** The VM asked for a preimage that no source has. */
export class PreimageMissingError extends OpmlError {
  override name = "PreimageMissingError";
  constructor(readonly key: Uint8Array) {
    super(`preimage ${keyHex(key)} is not available: add it to the preimage source`);
  }
}

/**
 * The VM asked for a preimage the on-chain oracle can never serve: a key of an unknown type
 * (not 1, 2 or 3), or local data longer than 32 bytes. Such a read is unprovable (docs/VM.md).
 */
export class UnprovablePreimageError extends OpmlError {
  override name = "UnprovablePreimageError";
  constructor(readonly key: Uint8Array, reason: string) {
    super(`preimage ${keyHex(key)} cannot be proven on chain: ${reason}`);
  }
}

/** The most bytes of local data (key type 1) the on-chain oracle holds. */
export const MAX_LOCAL_DATA = 32;

/** The part of a preimage stream the VM reads at one offset. */
export interface PreimagePart {
  /** 32 bytes of `uint64_be(len) || data` from the offset on, zero-padded. */
  part: Uint8Array;
  /** How many of those bytes exist: `min(32, len + 8 - offset)`, 0 at or past the end. */
  available: number;
}

/**
 * Serves 32-byte parts of preimage streams to the VM, caching the last preimage read.
 *
 * @example
 * ```ts
 * const oracle = new PreimageOracle(new MapSource());
 * ```
 */
export class PreimageOracle {
  #lastKey = "";
  #lastKeyBytes = new Uint8Array(32);
  #lastStream = new Uint8Array(0);

  constructor(readonly source: PreimageSource) {}

  /** Whether `key` is the last key streamed (bytes compared: the VM reads 4 bytes per call). */
  #isLast(key: Uint8Array): boolean {
    if (this.#lastKey === "") return false;
    const last = this.#lastKeyBytes;
    for (let i = 31; i >= 0; i--) if (key[i] !== last[i]) return false;
    return true;
  }

  /**
   * The full stream `uint64_be(len) || data` of a key. Throws PreimageMissingError, or
   * UnprovablePreimageError for a key type the contract does not know or local data over 32
   * bytes.
   */
  stream(key: Uint8Array): Uint8Array {
    if (this.#isLast(key)) return this.#lastStream; // the hot path: no hex string per read
    const hex = keyHex(key);
    if (hex !== this.#lastKey) {
      const type = key[0];
      if (type !== KeyType.Local && type !== KeyType.Keccak256 && type !== KeyType.MerkleData) {
        throw new UnprovablePreimageError(key, `unknown key type ${type}`);
      }
      const data = this.source.get(key);
      if (data === undefined) throw new PreimageMissingError(key);
      if (type === KeyType.Local && data.length > MAX_LOCAL_DATA) {
        throw new UnprovablePreimageError(
          key,
          `local data is ${data.length} bytes, at most ${MAX_LOCAL_DATA}`,
        );
      }
      const s = new Uint8Array(data.length + 8);
      new DataView(s.buffer).setBigUint64(0, BigInt(data.length));
      s.set(data, 8);
      this.#lastKey = hex;
      this.#lastKeyBytes.set(key.subarray(0, 32));
      this.#lastStream = s;
    }
    return this.#lastStream;
  }

  /** The part at `offset` of the key's stream. */
  read(key: Uint8Array, offset: number): PreimagePart {
    const part = new Uint8Array(32);
    return { part, available: this.#copyPart(key, offset, part) };
  }

  /**
   * The part at `offset` of the key's stream into `out` (32 bytes, zero-padded); returns how many
   * bytes exist. The VM's read syscall uses it with one scratch buffer: a 32-byte typed array
   * per 4-byte read cost more than the rest of the syscall (profiled on a 154 MB tensor).
   */
  readInto(key: Uint8Array, offset: number, out: Uint8Array): number {
    if (this.read !== PreimageOracle.prototype.read) {
      // a subclass that overrides read (e.g. to record the reads) still sees every read
      const r = this.read(key, offset);
      out.set(r.part);
      return r.available;
    }
    return this.#copyPart(key, offset, out);
  }

  #copyPart(key: Uint8Array, offset: number, out: Uint8Array): number {
    const s = this.stream(key);
    const end = Math.min(s.length, offset + 32);
    let j = 0;
    for (let i = offset; i < end; i++) out[j++] = s[i];
    while (j < 32) out[j++] = 0;
    return Math.max(0, Math.min(32, s.length - offset));
  }
}

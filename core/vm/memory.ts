/**
 * The VM's 4 GiB memory: sparse 4 KiB pages of big-endian words, committed by a binary keccak
 * Merkle tree over 32-byte leaves (docs/VM.md). The root is maintained incrementally: only
 * pages written since the last root are re-hashed. Pages are copy-on-write so that snapshots
 * (checkpoints) cost O(pages), not O(bytes).
 * @module
 */
import { hash64, hashPair, ZERO_HASHES } from "./keccak.ts";
import { merkleRootAccelerator } from "./oracle.ts";

/** Page size in bytes. */
export const PAGE_SIZE = 4096;
/** Depth of the memory tree: 2^27 leaves of 32 bytes. */
export const MEMORY_DEPTH = 27;
/** Bytes in one memory proof: the leaf and 27 siblings. */
export const MEMORY_PROOF_SIZE = (MEMORY_DEPTH + 1) * 32;

const PAGE_WORDS = PAGE_SIZE / 4;
const PAGE_COUNT = 1 << 20;
const PAGE_HEIGHT = 7; // 128 leaves per page
const UPPER_HEIGHT = MEMORY_DEPTH - PAGE_HEIGHT; // 20 levels of pages above
/** Backs every page never written; never written itself. */
const ZERO_PAGE = new Uint32Array(PAGE_WORDS);

/**
 * Memory tables are split into chunks of 1,024 pages (4 MiB of memory): a snapshot shares every
 * chunk's table with the live memory and with earlier snapshots until a page of that chunk is
 * replaced or re-hashed, so a snapshot costs two 1,024-entry arrays plus the tables of the chunks
 * written since the previous one, never a copy of a whole page table or node map.
 */
const CHUNK_BITS = 10;
const CHUNK_PAGES = 1 << CHUNK_BITS;
const CHUNKS = PAGE_COUNT >>> CHUNK_BITS;
/** A chunk's pages, by page index within the chunk. */
type PageTable = (Uint32Array | undefined)[];
/**
 * Merkle nodes: a chunk's subtree at heights 0 to 9 (page roots up), heap-indexed 2..2047
 * within the chunk; or the top of the tree, heights 10 to 20, by generalized index 1..2047.
 */
type NodeTable = (Uint8Array | undefined)[];

/** The node at generalized index `g` (page tree, 1 = root) and height `h` (0 = page roots). */
function nodeIn(
  chunks: readonly (NodeTable | undefined)[],
  top: NodeTable,
  g: number,
  h: number,
): Uint8Array {
  let n: Uint8Array | undefined;
  if (h >= CHUNK_BITS) n = top[g];
  else {
    const s = CHUNK_BITS - h;
    n = chunks[(g >>> s) & (CHUNKS - 1)]?.[(g & ((1 << s) - 1)) | (1 << s)];
  }
  return n ?? ZERO_HASHES[PAGE_HEIGHT + h];
}

/**
 * A frozen copy of memory (a checkpoint's): it shares its pages and chunk tables with the live
 * memory it was taken from, which copies a page (and the chunk's table) before its next write.
 *
 * @example
 * ```ts
 * const snap = mem.snapshot();
 * mem.writeWord(0x1000, 7);
 * snap.root(); // the root before the write
 * const again = Memory.fromSnapshot(snap); // a live memory with the old contents
 * ```
 */
export class MemorySnapshot {
  /** @internal made by {@link Memory.snapshot} */
  constructor(
    readonly pageTables: readonly (PageTable | undefined)[],
    readonly nodeTables: readonly (NodeTable | undefined)[],
    readonly top: NodeTable,
    /** Number of allocated pages. */
    readonly pageCount: number,
  ) {}

  /** The page with index `pageIndex`, or undefined if never written. */
  page(pageIndex: number): Uint32Array | undefined {
    return this.pageTables[pageIndex >>> CHUNK_BITS]?.[pageIndex & (CHUNK_PAGES - 1)];
  }

  /** The Merkle root of the frozen memory. */
  root(): Uint8Array {
    return nodeIn(this.nodeTables, this.top, 1, UPPER_HEIGHT);
  }

  /** The memory proof of the word at `addr` against {@link root} (as {@link Memory.proof}). */
  proof(addr: number): Uint8Array {
    const a = addr >>> 0;
    return memoryProof(this.page(a >>> 12), (g, h) => nodeIn(this.nodeTables, this.top, g, h), a);
  }
}

/**
 * What a set of snapshots holds, each object counted once however many snapshots share it:
 * pages, chunk tables and Merkle nodes, and their data in bytes (JavaScript object headers not
 * included). Memory accounting for tests and benchmarks.
 *
 * @example
 * ```ts
 * const { pages } = snapshotFootprint([a, b]); // pages b shares with a count once
 * ```
 */
export function snapshotFootprint(
  snaps: Iterable<MemorySnapshot>,
): { pages: number; tables: number; nodes: number; bytes: number } {
  const pages = new Set<Uint32Array>(), tables = new Set<unknown[]>(), nodes = new Set<Uint8Array>();
  let tableBytes = 0;
  const table = (t: unknown[]) => {
    if (tables.has(t)) return false;
    tables.add(t);
    tableBytes += 8 * t.length;
    return true;
  };
  for (const s of snaps) {
    for (const t of s.pageTables) if (t && table(t)) { for (const p of t) if (p) pages.add(p); }
    for (const t of [...s.nodeTables, s.top]) if (t && table(t)) { for (const n of t) if (n) nodes.add(n); }
  }
  return {
    pages: pages.size,
    tables: tables.size,
    nodes: nodes.size,
    bytes: pages.size * PAGE_SIZE + tableBytes + nodes.size * 32,
  };
}

/**
 * Sparse paged memory with an incremental Merkle root.
 *
 * @example
 * ```ts
 * const mem = new Memory();
 * mem.writeWord(0x1000, 0xdeadbeef);
 * const root = mem.root();
 * const proof = mem.proof(0x1000);
 * verifyMemoryProof(root, 0x1000, proof); // true
 * ```
 */
export class Memory {
  /**
   * Page table: `store[slots[addr >>> 12]]` is the page holding `addr`. Slot 0 is a shared
   * all-zero page that is never written, so reads need no branch. Read directly by the
   * executor's hot loop.
   */
  readonly slots: Int32Array = new Int32Array(PAGE_COUNT);
  readonly store: Uint32Array[] = [ZERO_PAGE];
  /** 1 where a page may be written without bookkeeping (owned and already dirty). */
  readonly writable: Uint8Array = new Uint8Array(PAGE_COUNT);
  /**
   * Per page, the code generation the block compiler (jit.ts) stamped on it: its compiled
   * blocks hold while the stamp does. Stamped pages are kept non-`writable`, so every write
   * goes through {@link touch}, which clears the stamp. Made on first use.
   */
  #codeGen: Int32Array | undefined;
  /** 1 where the page object is shared with a snapshot: copied before its next write. */
  #shared = new Uint8Array(PAGE_COUNT);
  #dirty = new Uint8Array(PAGE_COUNT);
  #dirtyList: number[] = [];
  #pageList: number[] = [];
  /** Pages allocated or copied since the last snapshot (owned: not shared). */
  #ownedPages: number[] = [];
  /** The pages by chunk (the snapshots' form of `slots`/`store`); copy-on-write per chunk. */
  #pageTables: (PageTable | undefined)[] = new Array(CHUNKS).fill(undefined);
  #pageTableOwned = new Uint8Array(CHUNKS);
  /** Merkle nodes at and above page level (see {@link NodeTable}); copy-on-write per table. */
  #nodeTables: (NodeTable | undefined)[] = new Array(CHUNKS).fill(undefined);
  #nodeTableOwned = new Uint8Array(CHUNKS);
  #top: NodeTable = new Array(2 * CHUNKS).fill(undefined);
  #topOwned = true;

  /** Number of allocated pages. */
  get pageCount(): number {
    return this.#pageList.length;
  }

  /** The code generation stamps of the pages (see `#codeGen`), made on first use. */
  codeGenerations(): Int32Array {
    return this.#codeGen ??= new Int32Array(PAGE_COUNT);
  }

  /** Whether the page holding `addr` was ever written (diagnostics only, not VM semantics). */
  isMapped(addr: number): boolean {
    return this.slots[addr >>> 12] !== 0;
  }

  /** The page with index `pageIndex`, or undefined if never written. */
  page(pageIndex: number): Uint32Array | undefined {
    const slot = this.slots[pageIndex];
    return slot === 0 ? undefined : this.store[slot];
  }

  /**
   * Returns the page for writing: allocates it, un-shares it, and marks it dirty. The
   * executor calls this only when `writable[page]` is 0.
   */
  touch(pageIndex: number): Uint32Array {
    let slot = this.slots[pageIndex];
    let page: Uint32Array;
    if (slot === 0) {
      page = new Uint32Array(PAGE_WORDS);
      slot = this.store.push(page) - 1;
      this.slots[pageIndex] = slot;
      this.#pageList.push(pageIndex);
      this.#own(pageIndex, page);
    } else if (this.#shared[pageIndex]) {
      page = this.store[slot].slice();
      this.store[slot] = page;
      this.#shared[pageIndex] = 0;
      this.#own(pageIndex, page);
    } else page = this.store[slot];
    if (!this.#dirty[pageIndex]) {
      this.#dirty[pageIndex] = 1;
      this.#dirtyList.push(pageIndex);
    }
    this.writable[pageIndex] = 1;
    if (this.#codeGen !== undefined) this.#codeGen[pageIndex] = 0; // code there may change now
    return page;
  }

  /** Records a new page object in its chunk's table (copied first if a snapshot shares it). */
  #own(pageIndex: number, page: Uint32Array): void {
    const c = pageIndex >>> CHUNK_BITS;
    let t = this.#pageTables[c];
    if (!this.#pageTableOwned[c]) {
      t = this.#pageTables[c] = t ? t.slice() : new Array(CHUNK_PAGES).fill(undefined);
      this.#pageTableOwned[c] = 1;
    }
    t![pageIndex & (CHUNK_PAGES - 1)] = page;
    this.#ownedPages.push(pageIndex);
  }

  /** Reads the aligned big-endian word at `addr & ~3`. */
  readWord(addr: number): number {
    return this.store[this.slots[addr >>> 12]][(addr & 0xfff) >>> 2];
  }

  /** Writes the aligned big-endian word at `addr & ~3`. */
  writeWord(addr: number, value: number): void {
    const pi = addr >>> 12;
    const page = this.writable[pi] ? this.store[this.slots[pi]] : this.touch(pi);
    page[(addr & 0xfff) >>> 2] = value;
  }

  /** Copies bytes into memory at any address. */
  writeBytes(addr: number, data: Uint8Array): void {
    let i = 0;
    // unaligned head, then whole words, then the tail
    while (i < data.length && ((addr + i) & 3) !== 0) this.#writeByte(addr + i, data[i++]);
    for (; i + 4 <= data.length; i += 4) {
      this.writeWord(
        (addr + i) >>> 0,
        ((data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]) >>> 0,
      );
    }
    while (i < data.length) this.#writeByte(addr + i, data[i++]);
  }

  /** Reads `length` bytes from any address. */
  readBytes(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const a = (addr + i) >>> 0;
      out[i] = (this.readWord(a) >>> (24 - 8 * (a & 3))) & 0xff;
    }
    return out;
  }

  #writeByte(addr: number, byte: number): void {
    const a = addr >>> 0;
    const shift = 24 - 8 * (a & 3);
    this.writeWord(a, ((this.readWord(a) & ~(0xff << shift)) | ((byte & 0xff) << shift)) >>> 0);
  }

  /** The Merkle root of the whole memory, re-hashing only the pages written since last time. */
  root(): Uint8Array {
    if (this.#dirtyList.length > 0) this.#rehash();
    return this.#node(1, UPPER_HEIGHT);
  }

  #node(g: number, h: number): Uint8Array {
    return nodeIn(this.#nodeTables, this.#top, g, h);
  }

  #setNode(g: number, h: number, hash: Uint8Array): void {
    if (h >= CHUNK_BITS) {
      if (!this.#topOwned) {
        this.#top = this.#top.slice();
        this.#topOwned = true;
      }
      this.#top[g] = hash;
      return;
    }
    const s = CHUNK_BITS - h, c = (g >>> s) & (CHUNKS - 1);
    let t = this.#nodeTables[c];
    if (!this.#nodeTableOwned[c]) {
      t = this.#nodeTables[c] = t ? t.slice() : new Array(2 * CHUNK_PAGES).fill(undefined);
      this.#nodeTableOwned[c] = 1;
    }
    t![(g & ((1 << s) - 1)) | (1 << s)] = hash;
  }

  #rehash(): void {
    let level = new Set<number>();
    for (const pi of this.#dirtyList) {
      this.#dirty[pi] = 0;
      this.writable[pi] = 0;
      const g = PAGE_COUNT + pi;
      this.#setNode(g, 0, pageRoot(this.store[this.slots[pi]]));
      level.add(g >>> 1);
    }
    this.#dirtyList = [];
    for (let h = 1; h <= UPPER_HEIGHT; h++) {
      const next = new Set<number>();
      for (const g of level) {
        this.#setNode(g, h, hashPair(this.#node(2 * g, h - 1), this.#node(2 * g + 1, h - 1)));
        next.add(g >>> 1);
      }
      level = next;
    }
  }

  /**
   * The memory proof of the word at `addr` (28 x 32 bytes: leaf, then siblings bottom-up)
   * against `root()`.
   */
  proof(addr: number): Uint8Array {
    const a = addr >>> 0;
    this.root();
    return memoryProof(this.page(a >>> 12), (g, h) => this.#node(g, h), a);
  }

  /**
   * Freezes the current contents; the live memory copies a page before its next write. Costs
   * the pages written since the previous snapshot, not the memory's size.
   */
  snapshot(): MemorySnapshot {
    this.root();
    for (const pi of this.#ownedPages) {
      this.#shared[pi] = 1;
      this.writable[pi] = 0;
    }
    this.#ownedPages = [];
    this.#pageTableOwned.fill(0);
    this.#nodeTableOwned.fill(0);
    this.#topOwned = false;
    return new MemorySnapshot(this.#pageTables.slice(), this.#nodeTables.slice(), this.#top, this.pageCount);
  }

  /** A new live memory whose contents are those of `snap` (sharing its pages and tables). */
  static fromSnapshot(snap: MemorySnapshot): Memory {
    const mem = new Memory();
    snap.pageTables.forEach((t, c) => {
      if (t === undefined) return;
      for (let i = 0; i < CHUNK_PAGES; i++) {
        const page = t[i];
        if (page === undefined) continue;
        const pi = (c << CHUNK_BITS) | i;
        mem.slots[pi] = mem.store.push(page) - 1;
        mem.#shared[pi] = 1;
        mem.#pageList.push(pi);
      }
    });
    mem.#pageTables = snap.pageTables.slice();
    mem.#nodeTables = snap.nodeTables.slice();
    mem.#top = snap.top;
    mem.#topOwned = false;
    return mem;
  }
}

/** The proof of the word at `a` in `page` (undefined: never written), upper nodes from `node`. */
function memoryProof(
  page: Uint32Array | undefined,
  node: (g: number, h: number) => Uint8Array,
  a: number,
): Uint8Array {
  const out = new Uint8Array(MEMORY_PROOF_SIZE);
  const leafIndex = (a & 0xfff) >>> 5;
  if (page !== undefined) {
    const bytes = pageBytes(page);
    out.set(bytes.subarray(leafIndex * 32, leafIndex * 32 + 32), 0);
    const levels = pageLevels(bytes);
    for (let h = 0; h < PAGE_HEIGHT; h++) {
      const sib = (leafIndex >>> h) ^ 1;
      out.set(levels[h].subarray(sib * 32, sib * 32 + 32), 32 * (h + 1));
    }
  } else {
    for (let h = 0; h < PAGE_HEIGHT; h++) out.set(ZERO_HASHES[h], 32 * (h + 1));
  }
  let g = PAGE_COUNT + (a >>> 12);
  for (let h = 0; h < UPPER_HEIGHT; h++, g >>>= 1) {
    out.set(node(g ^ 1, h), 32 * (PAGE_HEIGHT + h + 1));
  }
  return out;
}

/** The Merkle root of the 32-byte leaves of a page; all-zero pages cost nothing. */
function pageRoot(page: Uint32Array): Uint8Array {
  let nonzero = false;
  for (let i = 0; i < PAGE_WORDS; i++) {
    if (page[i] !== 0) {
      nonzero = true;
      break;
    }
  }
  if (!nonzero) return ZERO_HASHES[PAGE_HEIGHT];
  // the page's root is the Merkle-data root of its 4 KiB: native when enabled (10x faster)
  const fast = merkleRootAccelerator();
  if (fast) return fast(pageBytes(page));
  const levels = pageLevels(pageBytes(page));
  return levels[PAGE_HEIGHT].slice(0, 32);
}

function pageBytes(page: Uint32Array): Uint8Array {
  const bytes = new Uint8Array(PAGE_SIZE);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < PAGE_WORDS; i++) view.setUint32(4 * i, page[i]);
  return bytes;
}

/** All levels of a page's subtree: levels[0] is the page itself (128 leaves), levels[7] the root. */
function pageLevels(bytes: Uint8Array): Uint8Array[] {
  const levels = [bytes];
  let cur = bytes;
  for (let h = 1; h <= PAGE_HEIGHT; h++) {
    const n = cur.length / 64;
    const next = new Uint8Array(n * 32);
    const zero = ZERO_HASHES[h - 1];
    for (let i = 0; i < n; i++) {
      if (isZeroPair(cur, 64 * i, zero)) next.set(ZERO_HASHES[h], 32 * i);
      else hash64(cur, 64 * i, next, 32 * i);
    }
    levels.push(next);
    cur = next;
  }
  return levels;
}

function isZeroPair(buf: Uint8Array, off: number, zero: Uint8Array): boolean {
  for (let j = 0; j < 32; j++) {
    if (buf[off + j] !== zero[j] || buf[off + 32 + j] !== zero[j]) return false;
  }
  return true;
}

/**
 * Checks a memory proof of the word at `addr` against `root` and returns the word, or
 * `undefined` if the proof does not match. Mirrors the contract's check.
 *
 * @example
 * ```ts
 * const word = verifyMemoryProof(mem.root(), 0x1000, mem.proof(0x1000));
 * ```
 */
export function verifyMemoryProof(
  root: Uint8Array,
  addr: number,
  proof: Uint8Array,
): number | undefined {
  if (proof.length !== MEMORY_PROOF_SIZE) return undefined;
  const a = addr >>> 0;
  let node: Uint8Array = proof.slice(0, 32);
  let index = a >>> 5;
  for (let h = 0; h < MEMORY_DEPTH; h++, index >>>= 1) {
    const sib = proof.subarray(32 * (h + 1), 32 * (h + 2));
    node = index & 1 ? hashPair(sib, node) : hashPair(node, sib);
  }
  for (let i = 0; i < 32; i++) if (node[i] !== root[i]) return undefined;
  const o = a & 0x1c;
  return ((proof[o] << 24) | (proof[o + 1] << 16) | (proof[o + 2] << 8) | proof[o + 3]) >>> 0;
}

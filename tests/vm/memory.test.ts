import { assert, assertEquals, hexOf } from "../_assert.ts";
import { keccak256 as viemKeccak } from "viem";
import {
  keccak256,
  Memory,
  MEMORY_PROOF_SIZE,
  PAGE_SIZE,
  snapshotFootprint,
  verifyMemoryProof,
  ZERO_HASHES,
} from "../../core/vm/mod.ts";

/** Deterministic PRNG (xorshift32) so failures reproduce. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
}

/** Reference root: the plain definition over a sparse map of leaves, hashing with viem. */
function referenceRoot(words: Map<number, number>): string {
  const leaves = new Map<number, Uint8Array>();
  for (const [addr, w] of words) {
    const li = addr >>> 5;
    const leaf = leaves.get(li) ?? new Uint8Array(32);
    new DataView(leaf.buffer).setUint32(addr & 31, w);
    leaves.set(li, leaf);
  }
  let level = new Map<number, Uint8Array>([...leaves].map(([i, l]) => [i, l]));
  let zero: Uint8Array = new Uint8Array(32);
  for (let h = 0; h < 27; h++) {
    const next = new Map<number, Uint8Array>();
    for (const i of level.keys()) {
      const p = i >>> 1;
      if (next.has(p)) continue;
      const l = level.get(2 * p) ?? zero, r = level.get(2 * p + 1) ?? zero;
      const cat = new Uint8Array(64);
      cat.set(l);
      cat.set(r, 32);
      next.set(p, Uint8Array.from(Buffer.from(viemKeccak(cat).slice(2), "hex")));
    }
    const cat = new Uint8Array(64);
    cat.set(zero);
    cat.set(zero, 32);
    zero = Uint8Array.from(Buffer.from(viemKeccak(cat).slice(2), "hex"));
    level = next;
  }
  return hexOf(level.get(0) ?? zero);
}

Deno.test("keccak256 matches known vectors and viem", () => {
  assertEquals(
    hexOf(keccak256(new Uint8Array())),
    "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
  );
  const r = rng(7);
  for (const len of [1, 31, 32, 64, 135, 136, 137, 272, 1000]) {
    const data = Uint8Array.from({ length: len }, () => r() & 0xff);
    assertEquals(hexOf(keccak256(data)), viemKeccak(data));
  }
});

Deno.test("empty memory root is the depth-27 zero hash", () => {
  assertEquals(hexOf(new Memory().root()), hexOf(ZERO_HASHES[27]));
  assertEquals(hexOf(new Memory().root()), referenceRoot(new Map()));
});

Deno.test("incremental root equals the from-scratch root over random write sequences", () => {
  const r = rng(42);
  const mem = new Memory();
  const words = new Map<number, number>();
  for (let round = 0; round < 12; round++) {
    const writes = 1 + (r() % 200);
    for (let i = 0; i < writes; i++) {
      // cluster some writes into few pages, scatter others across the address space
      const addr = (r() % 4 === 0 ? r() : 0x400000 + (r() % 0x4000)) & ~3;
      const w = r() % 5 === 0 ? 0 : r();
      mem.writeWord(addr, w);
      words.set(addr >>> 0, w);
    }
    assertEquals(hexOf(mem.root()), referenceRoot(words), `round ${round}`);
  }
});

Deno.test("every proof verifies and a tampered proof fails", () => {
  const r = rng(9);
  const mem = new Memory();
  const addrs: number[] = [];
  for (let i = 0; i < 300; i++) {
    const a = (r() & ~3) >>> 0;
    mem.writeWord(a, r());
    addrs.push(a);
  }
  addrs.push(0, 0xfffffffc, 0x12345678); // untouched words prove as zero
  const root = mem.root();
  for (const a of addrs) {
    const proof = mem.proof(a);
    assertEquals(proof.length, MEMORY_PROOF_SIZE);
    assertEquals(verifyMemoryProof(root, a, proof), mem.readWord(a), `addr ${a.toString(16)}`);
    const bad = proof.slice();
    const i = r() % bad.length;
    bad[i] ^= 1 << (r() % 8);
    assertEquals(verifyMemoryProof(root, a, bad), undefined, `tampered byte ${i} at ${a.toString(16)}`);
    // the proof of one leaf does not prove the next leaf
    if (mem.readWord((a + 32) >>> 0) !== mem.readWord(a)) {
      assert(verifyMemoryProof(root, (a + 32) >>> 0, proof) !== mem.readWord((a + 32) >>> 0));
    }
  }
});

Deno.test("snapshots are frozen while the live memory changes (copy-on-write)", () => {
  const mem = new Memory();
  mem.writeWord(0x1000, 1);
  mem.writeWord(0x5000, 2);
  const rootBefore = hexOf(mem.root());
  const snap = mem.snapshot();
  mem.writeWord(0x1000, 99);
  mem.writeWord(0x9000, 3);
  const copy = Memory.fromSnapshot(snap);
  assertEquals(copy.readWord(0x1000), 1);
  assertEquals(copy.readWord(0x9000), 0);
  assertEquals(hexOf(copy.root()), rootBefore);
  copy.writeWord(0x5000, 7);
  assertEquals(mem.readWord(0x5000), 2, "writes to a restored copy do not leak into the original");
  assert(hexOf(mem.root()) !== rootBefore);
  assertEquals(hexOf(mem.root()), referenceRoot(new Map([[0x1000, 99], [0x5000, 2], [0x9000, 3]])));
});

Deno.test("a snapshot shares page objects and chunk tables until they are written", () => {
  const mem = new Memory();
  // pages 1 and 5 in the first 4 MiB chunk, 1024 in the second, 5000 in a fifth
  const addrs = [0x1000, 0x5000, 0x400000, 5000 * PAGE_SIZE];
  addrs.forEach((a, i) => mem.writeWord(a, i + 1));
  const a = mem.snapshot();
  for (const addr of addrs) {
    assert(a.page(addr >>> 12) === mem.page(addr >>> 12), `page ${addr >>> 12} shared`);
  }
  mem.writeWord(0x1004, 9);
  assert(mem.page(1) !== a.page(1), "the written page is a copy");
  assertEquals(a.page(1)![0], 1, "the snapshot's page is unchanged");
  assertEquals(mem.page(1)![0], 1, "the copy keeps the rest of the page");
  assert(mem.page(5) === a.page(5), "an unwritten page of the same chunk stays shared");
  const b = mem.snapshot();
  assert(b.pageTables[0] !== a.pageTables[0], "the written chunk's page table is a new one");
  assert(b.nodeTables[0] !== a.nodeTables[0], "so is its node table");
  for (const c of [1, 4]) {
    assert(b.pageTables[c] === a.pageTables[c], `chunk ${c}'s page table is shared`);
    assert(b.nodeTables[c] === a.nodeTables[c], `chunk ${c}'s node table is shared`);
  }
  assert(b.page(1024) === a.page(1024) && b.page(5) === a.page(5));
  // a memory restored from a snapshot shares too, and its writes reach neither snapshot
  const back = Memory.fromSnapshot(a);
  assert(back.page(1024) === a.page(1024));
  back.writeWord(0x400000, 77);
  assertEquals(a.page(1024)![0], 3);
  assertEquals(b.page(1024)![0], 3);
  assertEquals(hexOf(a.root()), referenceRoot(new Map(addrs.map((x, i) => [x, i + 1]))));
});

Deno.test("memory accounting: checkpoints of a large memory cost the pages written between them", () => {
  const mem = new Memory();
  const pages = 3000; // about 12 MiB over three chunks
  for (let p = 0; p < pages; p++) mem.writeWord(p * PAGE_SIZE, p + 1);
  const words = new Map<number, number>(Array.from({ length: pages }, (_, p) => [p * PAGE_SIZE, p + 1]));
  const snaps = [mem.snapshot()];
  const roots = [referenceRoot(words)];
  const r = rng(11);
  for (let i = 1; i < 100; i++) {
    const addr = (r() % pages) * PAGE_SIZE + 4 * (r() % 1024);
    mem.writeWord(addr, i);
    words.set(addr, i);
    snaps.push(mem.snapshot());
    if (i % 33 === 0) roots.push(referenceRoot(words));
  }
  const all = snapshotFootprint(snaps), one = snapshotFootprint([snaps[0]]);
  assertEquals(one.pages, pages);
  assertEquals(all.pages, pages + 99, "each snapshot adds the one page written since the last");
  // tables: per snapshot at most the one page table and node table of the written chunk, plus
  // the top of the tree; nodes: the written page's root and its 20 ancestors
  assert(all.tables <= one.tables + 99 * 3, `${all.tables} tables`);
  assert(all.nodes <= one.nodes + 99 * 21, `${all.nodes} nodes`);
  assert(all.bytes < 1.5 * one.bytes, `100 snapshots hold ${all.bytes} bytes, one ${one.bytes}`);
  // every snapshot is still the memory of its moment
  [0, 33, 66, 99].forEach((i, j) => assertEquals(hexOf(snaps[i].root()), roots[j], `snapshot ${i}`));
  assertEquals(hexOf(Memory.fromSnapshot(snaps[33]).root()), roots[1]);
});

Deno.test("byte-level writes and reads across word and page boundaries", () => {
  const mem = new Memory();
  const data = Uint8Array.from({ length: 100 }, (_, i) => i + 1);
  mem.writeBytes(0x1fff - 40, data);
  assertEquals(Array.from(mem.readBytes(0x1fff - 40, 100)), Array.from(data));
  assertEquals(
    mem.readWord(0x1fff - 40 - 3),
    0x00000001,
    "big-endian: first byte is the low byte of that word",
  );
});

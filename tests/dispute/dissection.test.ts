/**
 * k-ary dissection: the interior points of every round, narrowing, and the dissection game
 * between two sources for every arity 2..8 against random disagreement points (a party wrong
 * from some index on, and a party whose disagreements come and go), with round and query
 * counts checked against their bounds.
 */
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import {
  type CommitmentSource,
  CounterpartError,
  describeNodeState,
  disputedPart,
  DisputeError,
  dissect,
  type Hash,
  interiorPoints,
  isFinal,
  Ledger,
  listSource,
  maxRounds,
  narrow,
} from "../../core/dispute/mod.ts";
import { assertRejects, nodeStates, randomHash, rng, tamperFrom } from "./_fake.ts";

Deno.test("interior points: evenly spaced, distinct, strictly inside, as many as the gap allows", () => {
  assertEquals(interiorPoints({ lo: 0, hi: 100 }, 4), [25, 50, 75]);
  assertEquals(interiorPoints({ lo: 0, hi: 100 }, 2), [50]);
  assertEquals(interiorPoints({ lo: 7, hi: 9 }, 8), [8]);
  assertEquals(interiorPoints({ lo: 7, hi: 8 }, 8), []);
  assertEquals(interiorPoints({ lo: 10, hi: 13 }, 3), [11, 12]);
  const r = rng(11);
  for (let i = 0; i < 5000; i++) {
    const lo = Math.floor(r() * 1e6), gap = 1 + Math.floor(r() ** 3 * 1e6), arity = 2 + Math.floor(r() * 7);
    const pts = interiorPoints({ lo, hi: lo + gap }, arity);
    assertEquals(pts.length, Math.min(arity - 1, gap - 1), `count for gap ${gap} arity ${arity}`);
    let prev = lo;
    for (const p of pts) {
      assert(p > prev && p < lo + gap, `points ${pts} of (${lo}, ${lo + gap})`);
      prev = p;
    }
    // no sub-interval is longer than ceil(gap / parts)
    const ends = [lo, ...pts, lo + gap];
    const longest = Math.max(...ends.slice(1).map((e, k) => e - ends[k]));
    assert(
      longest <= Math.ceil(gap / Math.min(arity, gap)),
      `longest ${longest} for gap ${gap} arity ${arity}`,
    );
  }
  assertThrows(() => interiorPoints({ lo: 5, hi: 5 }, 2), RangeError, /not a dissection interval/);
  assertThrows(() => interiorPoints({ lo: 0, hi: 5 }, 1), RangeError, /arity must be an integer from 2/);
  assertThrows(() => interiorPoints({ lo: 0, hi: 5 }, 2.5), RangeError, /arity/);
});

Deno.test("narrow: the first disagreeing point ends the next interval", () => {
  const iv = { lo: 0, hi: 100 }, pts = [25, 50, 75];
  assertEquals(narrow(iv, pts, [false, false, false]), { lo: 0, hi: 25 });
  assertEquals(narrow(iv, pts, [true, false, true]), { lo: 25, hi: 50 });
  assertEquals(narrow(iv, pts, [true, true, false]), { lo: 50, hi: 75 });
  assertEquals(narrow(iv, pts, [true, true, true]), { lo: 75, hi: 100 });
  assertThrows(() => narrow(iv, pts, [true]), RangeError, /3 points but 1/);
  assertThrows(() => narrow(iv, [25, 20], [true, true]), RangeError, /point 20 is not inside/);
  assert(isFinal({ lo: 3, hi: 4 }) && !isFinal({ lo: 3, hi: 5 }));
});

Deno.test("disputedPart: the index a pick sends on chain, the sub-interval narrow keeps", () => {
  // [lo, p1, p2, p3, hi]: sub-interval j is [ends[j], ends[j + 1]]
  const iv = { lo: 0, hi: 100 }, pts = [25, 50, 75], ends = [0, 25, 50, 75, 100];
  const cases: [boolean[], number][] = [
    [[false, false, false], 0],
    [[false, true, true], 0],
    [[true, false, true], 1],
    [[true, true, false], 2],
    [[true, true, true], 3], // agrees with every posted state: disputes the last, ending at hi
  ];
  for (const [agree, j] of cases) {
    assertEquals(disputedPart(agree), j);
    assertEquals(narrow(iv, pts, agree), { lo: ends[j], hi: ends[j + 1] });
  }
  assertEquals(disputedPart([]), 0); // no interior point: the one sub-interval
});

/** A source that counts what it is asked. */
function counted(list: readonly unknown[]): CommitmentSource & { asked: number[] } {
  const asked: number[] = [];
  const inner = listSource(list);
  return { asked, at: (ix) => (asked.push(...ix), inner.at(ix)) };
}

function ledgerWithEnds(ours: readonly Hash[], theirs: readonly unknown[], lo: number, hi: number): Ledger {
  const l = new Ledger(describeNodeState);
  for (const i of [lo, hi]) (l.record("ours", i, ours[i]), l.record("theirs", i, theirs[i]));
  return l;
}

Deno.test("dissect: finds exactly the first wrong index for every arity 2..8 and random lengths", async () => {
  const r = rng(5);
  let cases = 0;
  for (let arity = 2; arity <= 8; arity++) {
    for (const n of [0, 1, 2, 3, 7, 8, 9, 63, 64, 65, 500, 4097]) {
      const honest = nodeStates(r, n);
      // every start for small n, random ones for large
      const starts = n < 70
        ? Array.from({ length: n + 1 }, (_, i) => i + 1)
        : [1, 2, n, n + 1, ...Array.from({ length: 6 }, () => 1 + Math.floor(r() * (n + 1)))];
      for (const from of starts) {
        const liar = tamperFrom(r, honest, from);
        const ours = counted(honest), theirs = counted(liar);
        const iv = { lo: 0, hi: n + 1 };
        const res = await dissect({
          interval: iv,
          arity,
          ours,
          theirs,
          ledger: ledgerWithEnds(honest, liar, 0, n + 1),
        });
        assertEquals(res.interval, { lo: from - 1, hi: from }, `n ${n} arity ${arity} wrong from ${from}`);
        assert(
          res.moves.length <= maxRounds(iv, arity),
          `rounds ${res.moves.length} > ${maxRounds(iv, arity)}`,
        );
        // each side is asked exactly the interior points of the rounds, each index at most once
        const points = res.moves.flatMap((m) => m.points);
        assertEquals(ours.asked, points);
        assertEquals(theirs.asked, points);
        assertEquals(new Set(points).size, points.length, "an index asked twice");
        assertEquals(res.asked, { ours: points.length, theirs: points.length });
        cases++;
      }
    }
  }
  assert(cases > 1000, `${cases} cases`);
});

Deno.test("dissect: disagreements that come and go still end at an adjacent agree/disagree pair", async () => {
  const r = rng(9);
  for (let i = 0; i < 400; i++) {
    const arity = 2 + (i % 7), n = 1 + Math.floor(r() * 300);
    const honest = nodeStates(r, n);
    const liar = honest.map((h, j) => (j === 0 ? h : j === n + 1 || r() < 0.3 ? randomHash(r, 2) : h));
    const res = await dissect({
      interval: { lo: 0, hi: n + 1 },
      arity,
      ours: listSource(honest),
      theirs: listSource(liar),
      ledger: ledgerWithEnds(honest, liar, 0, n + 1),
    });
    const { lo, hi } = res.interval;
    assertEquals(hi, lo + 1);
    assertEquals(honest[lo], liar[lo], `agree at ${lo}`);
    assert(honest[hi] !== liar[hi], `disagree at ${hi}`);
  }
});

Deno.test("dissect: the ends must agree and disagree; malformed answers commit nothing", async () => {
  const r = rng(2);
  const honest = nodeStates(r, 20), liar = tamperFrom(r, honest, 13);
  const base = { interval: { lo: 0, hi: 21 }, arity: 3, ours: listSource(honest) };
  await assertRejects(
    () => dissect({ ...base, theirs: listSource(honest), ledger: ledgerWithEnds(honest, honest, 0, 21) }),
    DisputeError,
    /equals their S_21: nothing to dissect/,
  );
  const other = tamperFrom(r, honest, 0);
  await assertRejects(
    () => dissect({ ...base, theirs: listSource(other), ledger: ledgerWithEnds(honest, other, 0, 21) }),
    DisputeError,
    /our S_0 and their S_0 differ/,
  );
  const cases: [CommitmentSource, RegExp][] = [
    [{ at: (ix) => ix.slice(1).map((i) => liar[i]) }, /their source gave 1 answers for 2 steps \(7 and 14\)/],
    [{ at: () => "nope" as unknown as unknown[] }, /their source gave no list of answers/],
    [
      { at: (ix) => ix.map((i) => (i === 14 ? "0x1234" : liar[i])) },
      /their S_14 is not a 32-byte hex hash: '0x1234'/,
    ],
    [{ at: (ix) => ix.map((i) => (i === 7 ? 42 : liar[i])) }, /their S_7 is not a 32-byte hex hash: 42/],
    [{ at: (ix) => ix.map((i) => liar[i].toUpperCase().replace("0X", "0x")) }, /not a 32-byte hex hash/],
  ];
  for (const [theirs, re] of cases) {
    const ledger = ledgerWithEnds(honest, liar, 0, 21);
    let moves = 0;
    await assertRejects(
      () => dissect({ ...base, theirs, ledger, onMove: () => void moves++ }),
      CounterpartError,
      re,
    );
    assertEquals(moves, 0, "no move committed");
    assertEquals([...ledger.theirs.keys()].sort((a, b) => a - b), [0, 21], "the ledger keeps only the ends");
  }
});

Deno.test("dissect: a rule rejects impossible answers and names the side and index", async () => {
  const r = rng(4);
  const honest = nodeStates(r, 40), liar = tamperFrom(r, honest, 30);
  // the first round asks for 8, 16, 24 and 32
  liar[16] = ("0x05" + liar[16].slice(4)) as Hash;
  await assertRejects(
    () =>
      dissect({
        interval: { lo: 0, hi: 41 },
        arity: 5,
        ours: listSource(honest),
        theirs: listSource(liar),
        ledger: ledgerWithEnds(honest, liar, 0, 41),
        rule: (_s, _i, h) => (h.startsWith("0x02") ? undefined : "not a keccak key"),
      }),
    CounterpartError,
    /^their S_16: not a keccak key$/,
  );
});

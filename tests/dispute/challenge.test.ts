/**
 * The two-phase challenge on synthetic commitments: phase 1 finds the first wrong node and
 * phase 2 the first wrong VM step for every arity 2..8; an interrupted challenge resumes at
 * every move without asking anything twice; the session refuses another dispute and survives a
 * failing round unchanged; lying and inconsistent counterparts get clear errors.
 */
import { assert, assertEquals } from "../_assert.ts";
import {
  challenge,
  type ChallengeOptions,
  type CheckSource,
  type CommitmentSource,
  CounterpartError,
  type Hash,
  JsonFileError,
  SessionError,
  UnavailableError,
} from "../../core/dispute/mod.ts";
import { assertRejects, lazyTrace, nodeStates, randomHash, rng, tamperFrom } from "./_fake.ts";

const tmp = Deno.makeTempDirSync({ prefix: "opml-dispute-" });

/** A dispute: our phase-1 states, theirs wrong from node `node`; our check of their claim and their check. */
interface Scenario {
  ours: Hash[];
  theirs: Hash[];
  /** our check of their S_K, exited-invalid at `ourEnd` */
  ourCheck: (t: number) => Hash;
  /** their check: ours up to `wrongStep - 1`, then different, exited-valid at `theirEnd` */
  theirCheck: (t: number) => Hash;
  theirEnd: number;
  node: number;
  wrongStep: number;
}

function scenario(
  seed: number,
  n: number,
  node: number,
  ourEnd: number,
  theirEnd: number,
  wrongStep: number,
): Scenario {
  assert(
    wrongStep <= ourEnd || (wrongStep === ourEnd + 1 && theirEnd === ourEnd),
    "a trace never leaves an exited state",
  );
  const r = rng(seed);
  const ours = nodeStates(r, n);
  const theirs = tamperFrom(r, ours, node);
  const ourCheck = lazyTrace(seed, ourEnd, 1);
  const other = lazyTrace(seed + 0.5, theirEnd, 0);
  const theirCheck = (t: number) => (t >= theirEnd ? other(t) : t < wrongStep ? ourCheck(t) : other(t));
  return { ours, theirs, ourCheck, theirCheck, theirEnd, node, wrongStep };
}

/** Sources that count their queries and can be made to fail after a number of calls. */
class Counter {
  calls = 0;
  indices = 0;
  constructor(
    readonly failAfter = Infinity,
    readonly failure: () => Error = () => new Error("interrupted"),
  ) {}
  tick(ix: readonly number[]) {
    if (this.calls >= this.failAfter) throw this.failure();
    this.calls++;
    this.indices += ix.length;
  }
}

function phase2For(
  s: Scenario,
  ours: Counter,
  theirs: Counter,
  opened: { count: number } = { count: 0 },
): ChallengeOptions["phase2"] {
  return (d) => {
    opened.count++;
    assertEquals(d.node, s.node);
    assertEquals(d.pre, s.ours[s.node - 1]);
    assertEquals(d.claim, s.theirs[s.node]);
    assertEquals(d.ours, s.ours[s.node]);
    const oursSrc: CommitmentSource = { at: (ix) => (ours.tick(ix), ix.map(s.ourCheck)) };
    const theirsSrc: CheckSource = {
      at: (ix) => (theirs.tick(ix), ix.map(s.theirCheck)),
      final: () => ({ step: s.theirEnd, hash: s.theirCheck(s.theirEnd) }),
    };
    return { initial: s.ourCheck(0), ours: oursSrc, theirs: theirsSrc };
  };
}

Deno.test("challenge: the tampered node, then the first wrong step, for every arity 2..8", async () => {
  let seed = 1;
  for (let arity = 2; arity <= 8; arity++) {
    for (
      const [n, node, ourEnd, theirEnd, wrongStep] of [
        [5, 1, 1000, 1200, 1], // wrong from the first node, and from the first step
        [5, 6, 1200, 1200, 1200], // the last node (the result); only their final state is wrong
        [40, 17, 54321, 54321, 777], // a middle node; the checks end at the same step
        [40, 40, 5000, 3000, 2999], // they exit earlier than we do
        [1, 1, 1, 1, 1], // one node, one-step checks
        [300, 123, 100000, 140000, 99999], // their wrong step just before our exit
      ] as const
    ) {
      const s = scenario(seed++, n, node, ourEnd, theirEnd, wrongStep);
      const ours = new Counter(), theirs = new Counter();
      const rep = await challenge({
        arity,
        ours: s.ours,
        theirs: s.theirs,
        phase2: phase2For(s, ours, theirs),
      });
      const o = rep.outcome;
      assert(o.dispute, `dispute expected: ${JSON.stringify(o)}`);
      assertEquals(o.node.node, node);
      assertEquals(o.step, wrongStep - 1, `arity ${arity} n ${n}`);
      assertEquals(o.preState, s.ourCheck(wrongStep - 1));
      assertEquals(o.oursPost, s.ourCheck(wrongStep));
      assertEquals(o.theirsPost, s.theirCheck(wrongStep));
      assertEquals(o.final, { step: theirEnd, hash: s.theirCheck(theirEnd) });
      assertEquals(
        ours.calls,
        rep.stats.rounds.phase2 + 1,
        "ours asked once per phase-2 round, plus the end",
      );
      assertEquals(theirs.calls, rep.stats.rounds.phase2);
      assertEquals(
        rep.stats.asked.theirs - theirs.indices,
        rep.stats.asked.ours - ours.indices,
        "phase 1 asks both sides the same",
      );
      assertEquals(ours.indices, theirs.indices + 1, "ours: the interior points and our end state");
    }
  }
});

Deno.test("challenge: no dispute when the results agree, or when their claim passes our check", async () => {
  const r = rng(77);
  const ours = nodeStates(r, 12);
  let opened = 0;
  const same = await challenge({
    arity: 4,
    ours,
    theirs: ours.slice(),
    phase2: () => (opened++, null as never),
  });
  assertEquals(same.outcome, { dispute: false, reason: "same-result", nodes: 12 });
  assertEquals(opened, 0);
  // we are the wrong one: our check of their S_K exits valid with exactly their final state
  const s = scenario(8, 12, 5, 900, 900, 901);
  s.ourCheck = s.theirCheck;
  const rep = await challenge({
    arity: 3,
    ours: s.ours,
    theirs: s.theirs,
    phase2: phase2For(s, new Counter(), new Counter()),
  });
  assertEquals(rep.outcome.dispute, false);
  assertEquals(rep.outcome.dispute === false && rep.outcome.reason, "claim-holds");
  assertEquals(rep.stats.rounds.phase2, 0);
});

Deno.test("challenge: interrupted at every query of either side, it resumes without asking anything twice", async () => {
  for (const arity of [2, 3, 5, 8]) {
    const s = scenario(100 + arity, 70, 33, 30000, 31000, 12345);
    const whole = { ours: new Counter(), theirs: new Counter() };
    const want = await challenge({
      arity,
      ours: s.ours,
      theirs: s.theirs,
      phase2: phase2For(s, whole.ours, whole.theirs),
    });
    for (const side of ["ours", "theirs"] as const) {
      for (let failAfter = 0; failAfter <= whole[side].calls; failAfter++) {
        const path = `${tmp}/resume-${arity}-${side}-${failAfter}.json`;
        const total = { ours: 0, theirs: 0 };
        let runs = 0;
        let budget = failAfter;
        for (;;) {
          runs++;
          const ours = new Counter(side === "ours" ? budget : Infinity);
          const theirs = new Counter(side === "theirs" ? budget : Infinity);
          try {
            const rep = await challenge({
              arity,
              ours: s.ours,
              theirs: s.theirs,
              sessionPath: path,
              phase2: phase2For(s, ours, theirs),
            });
            assertEquals(rep.outcome, want.outcome);
            assertEquals(rep.stats, want.stats);
            assertEquals(rep.resumed, runs > 1);
            total.ours += ours.indices, total.theirs += theirs.indices;
            break;
          } catch (e) {
            if ((e as Error).message !== "interrupted") throw e;
            total.ours += ours.indices, total.theirs += theirs.indices;
            budget = 1; // the next run gets one more call, and so on: an interruption at every move
          }
          assert(runs < 200, "no progress");
        }
        assertEquals(
          total,
          { ours: whole.ours.indices, theirs: whole.theirs.indices },
          `arity ${arity} ${side} fails after ${failAfter}`,
        );
        // a finished session answers at once, asking nobody
        let opened = 0;
        const again = await challenge({
          arity,
          ours: s.ours,
          theirs: s.theirs,
          sessionPath: path,
          phase2: () => (opened++, null as never),
        });
        assertEquals(again.outcome, want.outcome);
        assertEquals(opened, 0);
      }
    }
  }
});

Deno.test("challenge: the session refuses another dispute, a corrupted file, and keeps its bytes when a round fails", async () => {
  const s = scenario(5, 30, 11, 4000, 4000, 2000);
  const path = `${tmp}/refuse.json`;
  await assertRejects(
    () =>
      challenge({
        arity: 4,
        ours: s.ours,
        theirs: s.theirs,
        sessionPath: path,
        phase2: phase2For(s, new Counter(), new Counter(3)),
      }),
    Error,
    /^interrupted$/,
  );
  const saved = Deno.readTextFileSync(path);
  assert(JSON.parse(saved).phase2.moves.length === 3, "three phase-2 moves committed");
  const other = tamperFrom(rng(1), s.ours, 12);
  for (
    const [opts, re] of [
      [{ arity: 5, theirs: s.theirs }, /is for another dispute \(arity 4, not 5\)/],
      [{ arity: 4, theirs: other }, /is for another dispute \(their result state 0x02[0-9a-f]+, not 0x02/],
      [
        { arity: 4, theirs: s.theirs, context: { model: "0x03ab" } },
        /another dispute \(model undefined, not 0x03ab\)/,
      ],
    ] as const
  ) {
    await assertRejects(
      () =>
        challenge({
          ours: s.ours,
          sessionPath: path,
          phase2: phase2For(s, new Counter(), new Counter()),
          ...opts,
        }),
      SessionError,
      re,
    );
    assertEquals(Deno.readTextFileSync(path), saved, "the session file is unchanged");
  }
  // a malformed answer in the next round: an error, nothing committed
  const liar = (): ChallengeOptions["phase2"] => (d) => {
    const ok = phase2For(s, new Counter(), new Counter())(d) as Awaited<
      ReturnType<ChallengeOptions["phase2"]>
    >;
    return { ...ok, theirs: { ...ok.theirs, at: (ix) => ix.map(() => "0xdeadbeef") } };
  };
  await assertRejects(
    () => challenge({ arity: 4, ours: s.ours, theirs: s.theirs, sessionPath: path, phase2: liar() }),
    CounterpartError,
    /^their state at step \d+ is not a 32-byte hex hash: '0xdeadbeef'$/,
  );
  assertEquals(Deno.readTextFileSync(path), saved, "the session file is unchanged");
  // their phase-1 file changed since the session began
  const edited = s.theirs.slice();
  const firstPoint = JSON.parse(saved).phase1.moves[0].points[1];
  edited[firstPoint] = randomHash(rng(3), 2);
  await assertRejects(
    () =>
      challenge({
        arity: 4,
        ours: s.ours,
        theirs: edited,
        sessionPath: path,
        phase2: phase2For(s, new Counter(), new Counter()),
      }),
    CounterpartError,
    new RegExp(`^their S_${firstPoint} changed since the session began: 0x02`),
  );
  // truncated or garbage session files: one-line errors, the file left as it is
  for (
    const text of [
      saved.slice(0, saved.length / 2),
      "[]",
      '{"format":"opml-challenge/1"}',
      JSON.stringify({ ...JSON.parse(saved), phase1: { moves: [{ points: [1], ours: ["x"], theirs: [] }] } }),
    ]
  ) {
    Deno.writeTextFileSync(path, text);
    const e = await assertRejects(
      () =>
        challenge({
          arity: 4,
          ours: s.ours,
          theirs: s.theirs,
          sessionPath: path,
          phase2: phase2For(s, new Counter(), new Counter()),
        }),
      Error,
      /session file .*refuse\.json: (not valid JSON|not an opml challenge session|no parameters|malformed phase-1 moves)/,
    );
    assert(e instanceof SessionError || e instanceof JsonFileError, e.name);
    assertEquals(Deno.readTextFileSync(path), text);
  }
  // a recorded move that does not follow from the dissection (edited by hand)
  const doc = JSON.parse(saved);
  doc.phase2.moves[1].points[0] += 1;
  Deno.writeTextFileSync(path, JSON.stringify(doc));
  await assertRejects(
    () =>
      challenge({
        arity: 4,
        ours: s.ours,
        theirs: s.theirs,
        sessionPath: path,
        phase2: phase2For(s, new Counter(), new Counter()),
      }),
    Error,
    /recorded move 2 asks for/,
  );
});

Deno.test("challenge: inconsistent commitment files and impossible phase-2 answers", async () => {
  const s = scenario(21, 10, 4, 500, 600, 300);
  const run = (o: Partial<ChallengeOptions>) =>
    challenge({
      arity: 3,
      ours: s.ours,
      theirs: s.theirs,
      phase2: phase2For(s, new Counter(), new Counter()),
      ...o,
    });
  await assertRejects(
    () => run({ theirs: s.theirs.slice(1) }),
    CounterpartError,
    /^their commitments have 11 states, ours 12/,
  );
  await assertRejects(
    () => run({ theirs: [...s.theirs, s.theirs[0]] }),
    CounterpartError,
    /13 states, ours 12/,
  );
  await assertRejects(
    () => run({ theirs: tamperFrom(rng(2), s.ours, 0) }),
    CounterpartError,
    /^their S_0 0x02\w+ differs from ours/,
  );
  const notKey = s.theirs.slice();
  notKey[11] = ("0x03" + notKey[11].slice(4)) as Hash;
  await assertRejects(
    () => run({ theirs: notKey }),
    CounterpartError,
    /^their S_11: a phase-1 state is a keccak key/,
  );
  const junk: unknown[] = s.theirs.slice();
  junk[7] = { hash: 1 }; // the first round asks for S_3 and S_7
  await assertRejects(
    () => run({ theirs: junk }),
    CounterpartError,
    /^their S_7 is not a 32-byte hex hash: \{"hash":1\}/,
  );
  // phase 2: their final claim
  const withFinal = (final: unknown, rest: Partial<CheckSource> = {}): ChallengeOptions["phase2"] => (d) => {
    const ok = phase2For(s, new Counter(), new Counter())(d) as Awaited<
      ReturnType<ChallengeOptions["phase2"]>
    >;
    return { ...ok, theirs: { ...ok.theirs, final: () => final, ...rest } };
  };
  await assertRejects(
    () => run({ phase2: withFinal({ step: 600, hash: s.ourCheck(600) }) }),
    CounterpartError,
    /ends at step 600 with status 1, not exited-valid/,
  );
  await assertRejects(
    () => run({ phase2: withFinal({ step: 0, hash: s.theirCheck(600) }) }),
    CounterpartError,
    /their final claim must be \{step >= 1, hash\}/,
  );
  await assertRejects(
    () => run({ phase2: withFinal("soon") }),
    CounterpartError,
    /their final claim must be/,
  );
  await assertRejects(
    () => run({ maxCheckSteps: 599 }),
    CounterpartError,
    /ends at step 600, past the bound of 599 steps/,
  );
  // an exited state, then a different one; a status byte that no state has
  const exitedEarly = (ix: readonly number[]) =>
    ix.map((t) => (t >= 150 ? randomHash(rng(t), 2) : s.ourCheck(t)));
  await assertRejects(
    () => run({ phase2: withFinal({ step: 600, hash: s.theirCheck(600) }, { at: exitedEarly }) }),
    CounterpartError,
    /^their state at step \d+: (the state at step \d+ has exited|it has exited)/,
  );
  const badStatus = (ix: readonly number[]) => ix.map((t) => ("0x07" + s.theirCheck(t).slice(4)));
  await assertRejects(
    () => run({ phase2: withFinal({ step: 600, hash: s.theirCheck(600) }, { at: badStatus }) }),
    CounterpartError,
    /status byte 7 is not a VM status/,
  );
  // their source cannot answer yet: the error says which steps
  await assertRejects(
    () =>
      run({
        phase2: withFinal({ step: 600, hash: s.theirCheck(600) }, {
          at: (ix) => {
            throw new UnavailableError(ix);
          },
        }),
      }),
    UnavailableError,
    /^no commitments for 200 and 400$/,
  );
});

Deno.test("challenge: on resume their final claim must be the recorded one", async () => {
  const s = scenario(31, 9, 3, 2000, 2000, 1000);
  const path = `${tmp}/final-changed.json`;
  await assertRejects(
    () =>
      challenge({
        arity: 2,
        ours: s.ours,
        theirs: s.theirs,
        sessionPath: path,
        phase2: phase2For(s, new Counter(), new Counter(2)),
      }),
    Error,
    /^interrupted$/,
  );
  const saved = Deno.readTextFileSync(path);
  const changed: ChallengeOptions["phase2"] = (d) => {
    const ok = phase2For(s, new Counter(), new Counter())(d) as Awaited<
      ReturnType<ChallengeOptions["phase2"]>
    >;
    return { ...ok, theirs: { ...ok.theirs, final: () => ({ step: 1999, hash: s.theirCheck(2000) }) } };
  };
  await assertRejects(
    () => challenge({ arity: 2, ours: s.ours, theirs: s.theirs, sessionPath: path, phase2: changed }),
    CounterpartError,
    /^their final claim changed between queries: step 2000 0x00\w+, now \{"step":1999,/,
  );
  assertEquals(Deno.readTextFileSync(path), saved);
  // a source that cannot give its final claim now (a file-based exchange) resumes anyway
  const quiet: ChallengeOptions["phase2"] = (d) => {
    const ok = phase2For(s, new Counter(), new Counter())(d) as Awaited<
      ReturnType<ChallengeOptions["phase2"]>
    >;
    return {
      ...ok,
      theirs: {
        ...ok.theirs,
        final: () => {
          throw new UnavailableError([]);
        },
      },
    };
  };
  const rep = await challenge({ arity: 2, ours: s.ours, theirs: s.theirs, sessionPath: path, phase2: quiet });
  assert(rep.outcome.dispute && rep.outcome.step === 999 && rep.resumed);
});

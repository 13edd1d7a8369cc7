/**
 * The commitments and dispute files: well-formed documents parse to themselves, and each way a
 * file can be inconsistent (lengths, hash formats, step order, states after the end, exited
 * states before it) is refused with a message naming the file and the field.
 */
import { assertEquals, assertThrows } from "../_assert.ts";
import { parseDispute, parseRoots, RootsFileError } from "../../core/dispute/roots_file.ts";
import { nodeStates, randomHash, rng } from "./_fake.ts";

const r = rng(42);
const spec = { model: { dir: "/m", commitment: randomHash(r, 3) }, inputs: ["/x.json"] };
const phase1 = { format: "opml-roots/1", phase: 1, ...spec, nodes: 3, states: nodeStates(r, 3) };
const fin = { step: 100, hash: randomHash(r, 0) };
const phase2 = {
  format: "opml-roots/1",
  phase: 2,
  ...spec,
  liesFrom: 2,
  node: 2,
  pre: randomHash(r, 2),
  claim: randomHash(r, 2),
  initial: randomHash(r, 3),
  final: fin,
  states: [{ step: 0, hash: randomHash(r, 3) }, { step: 50, hash: randomHash(r, 3) }, {
    step: 100,
    hash: fin.hash,
  }],
};
const dispute = {
  format: "opml-dispute/1",
  ...spec,
  node: 2,
  pre: phase2.pre,
  claim: phase2.claim,
  ours: randomHash(r, 2),
  initial: phase2.initial,
  final: fin,
  step: 70,
  preState: randomHash(r, 3),
  oursPost: randomHash(r, 3),
  theirsPost: randomHash(r, 3),
};

Deno.test("roots files: well-formed documents parse to themselves", () => {
  assertEquals<unknown>(parseRoots(structuredClone(phase1), "a.json"), phase1);
  assertEquals<unknown>(parseRoots(structuredClone(phase2), "b.json"), phase2);
  assertEquals<unknown>(parseDispute(structuredClone(dispute), "d.json"), dispute);
});

Deno.test("roots files: `tamper`, the old name of `liesFrom`, is still read", () => {
  const { liesFrom, ...rest } = structuredClone(phase2);
  assertEquals<unknown>(parseRoots({ ...rest, tamper: liesFrom }, "old.json"), phase2);
  assertEquals<unknown>(parseDispute({ ...structuredClone(dispute), tamper: 4 }, "old.json"), {
    ...dispute,
    liesFrom: 4,
  });
  assertThrows(
    () => parseRoots({ ...phase2, tamper: 2 }, "f.json"),
    RootsFileError,
    /both liesFrom and tamper \(its old name\)/,
  );
});

Deno.test("roots files: every inconsistency is named", () => {
  const bad = (doc: unknown, re: RegExp, parse: (d: unknown, p: string) => unknown = parseRoots) =>
    assertThrows(() => parse(doc, "f.json"), RootsFileError, re);
  const with1 = (o: Record<string, unknown>) => ({ ...structuredClone(phase1), ...o });
  const with2 = (o: Record<string, unknown>) => ({ ...structuredClone(phase2), ...o });
  bad(null, /^commitments file f\.json: not a JSON object$/);
  bad([], /not a JSON object/);
  bad(with1({ format: "opml-roots/2" }), /not an opml commitments file \(format "opml-roots\/2"/);
  bad(with1({ phase: 3 }), /phase must be 1 or 2, got 3/);
  bad(with1({ model: { dir: 1 } }), /model\.dir missing/);
  bad(with1({ model: { dir: "/m", commitment: "0x12" } }), /model\.commitment must be a 32-byte hex hash/);
  bad(with1({ inputs: "x" }), /inputs must be a list of strings/);
  bad(with1({ liesFrom: 0 }), /liesFrom must be an integer >= 1, got 0/);
  bad(with1({ tamper: 0 }), /tamper must be an integer >= 1, got 0/);
  bad(with1({ nodes: 4 }), /5 states for 4 nodes \(S_0 \.\. S_5 is 6\)/);
  bad(with1({ nodes: -1 }), /nodes must be an integer >= 0/);
  bad(with1({ states: [...phase1.states.slice(0, 4), 7] }), /S_4 must be a 32-byte hex hash, got 7/);
  bad(
    with1({ states: [...phase1.states.slice(0, 4), randomHash(r, 3)] }),
    /S_4 is not a phase-1 state \(a keccak key, first byte 0x02\)/,
  );
  bad(with2({ node: 0 }), /node must be an integer >= 1/);
  bad(with2({ final: { step: 0, hash: fin.hash } }), /final\.step must be an integer >= 1/);
  bad(
    with2({ final: { step: 100, hash: randomHash(r, 3) } }),
    /final\.hash is not an exited state \(status 3\)/,
  );
  bad(
    with2({ states: [phase2.states[1], phase2.states[0]] }),
    /states\[1\]: steps must be distinct and ascending \(0 after 50\)/,
  );
  bad(with2({ states: [phase2.states[1], phase2.states[1]] }), /distinct and ascending \(50 after 50\)/);
  bad(with2({ states: [{ step: 101, hash: fin.hash }] }), /step 101 is past the final step 100/);
  bad(
    with2({ states: [{ step: 100, hash: randomHash(r, 0) }] }),
    /the state at the final step 100 differs from final\.hash/,
  );
  bad(
    with2({ states: [{ step: 99, hash: randomHash(r, 1) }] }),
    /step 99 is before the final step, yet its status is 1 \(exited\)/,
  );
  bad(with2({ states: [{ step: 5 }] }), /states\[0\]\.hash must be a 32-byte hex hash/);
  bad(with2({ claim: "claim" }), /claim must be a 32-byte hex hash, got "claim"/);
  const d = (o: Record<string, unknown>) => ({ ...structuredClone(dispute), ...o });
  bad(d({ format: "opml-roots/1" }), /^dispute file f\.json: not an opml dispute file/, parseDispute);
  bad(d({ step: 100 }), /step 100 is not before the final step 100/, parseDispute);
  bad(d({ theirsPost: dispute.oursPost }), /oursPost equals theirsPost: nothing is disputed/, parseDispute);
  bad(d({ preState: undefined }), /preState must be a 32-byte hex hash, got undefined/, parseDispute);
});

/**
 * Their side of phase 2 offline, and ours as they see it: a party's phase-2 header (the document a
 * counterpart serves first), their check's commitments from their phase-2 files or from a command
 * on the line protocol, checked against the dispute. Used by `opml roots` and `opml challenge`.
 * @module
 */
import type { CheckEnd } from "./check_run.ts";
import type { CheckSource } from "./challenge.ts";
import { CounterpartError, sparseSource, UnavailableError } from "./counterpart.ts";
import type { Hash } from "./hash.ts";
import { type LinePeer, noCheckYet, spawnPeer } from "./line_peer.ts";
import type { FileParty } from "./party.ts";
import { parseRoots, type Phase2Roots, RootsFileError } from "./roots_file.ts";

/**
 * The phase-2 commitments document of a party's check run, without states: the header a
 * `--serve` counterpart writes first, and the head of `opml roots --phase 2`'s document.
 *
 * @example
 * ```ts
 * const header = phase2Header(party, k, states[k - 1], states[k], run);
 * ```
 */
export function phase2Header(
  party: FileParty,
  node: number,
  pre: Hash,
  claim: Hash,
  run: { initial: Hash; end: CheckEnd },
  from = node - 1,
): Phase2Roots {
  return {
    format: "opml-roots/1",
    phase: 2,
    ...party.spec,
    node,
    ...(from !== node - 1 ? { from } : {}),
    pre,
    claim,
    initial: run.initial,
    final: { step: run.end.step, hash: run.end.hash },
    states: [],
  };
}

/**
 * Their phase-2 commitments for node K, checked against the dispute (the agreed pre-state, their
 * phase-1 claim, the checker's initial state, the mode): from their phase-2 files, or from a
 * command answering the line protocol (`line_peer.ts`; `{node}` in it is replaced by K). Peers
 * it starts are pushed to `peers` (the caller closes them).
 *
 * @example
 * ```ts
 * const theirs = theirCheckSource(files, undefined, k, agreedPre, theirSk, initial, peers);
 * await theirs.final(); // { step, hash }
 * ```
 * @throws {CounterpartError} for a document of another dispute (at `final` or `at` for a command).
 */
export function theirCheckSource(
  files: Phase2Roots[],
  cmd: string | undefined,
  node: number,
  pre: Hash,
  claim: Hash,
  initial: Hash,
  peers: LinePeer[],
  from = node - 1,
): CheckSource {
  const expect = (h: Phase2Roots, where: string) => {
    if (h.node !== node) return; // another node's check: ignored
    if ((h.from ?? h.node - 1) !== from) {
      throw new CounterpartError(
        "theirs",
        `${where}: their check of node ${node} starts after node ${h.from ?? h.node - 1}, not ${from} (${
          from === 0 ? "single-phase" : "multi-phase"
        } mode)`,
      );
    }
    if (h.pre !== pre) {
      throw new CounterpartError(
        "theirs",
        `${where}: their check of node ${node} starts from ${h.pre}, not the agreed S_${node - 1} ${pre}`,
      );
    }
    if (h.claim !== claim) {
      throw new CounterpartError(
        "theirs",
        `${where}: their check of node ${node} is of S_${node} ${h.claim}, but their phase-1 S_${node} is ${claim}`,
      );
    }
    if (h.initial !== initial) {
      throw new CounterpartError(
        "theirs",
        `${where}: their check starts from VM state ${h.initial}, not the checker's ${initial} (another checker image)`,
      );
    }
  };
  if (cmd !== undefined) {
    let peer: LinePeer | undefined;
    let header: Promise<Phase2Roots> | undefined;
    const open = () => {
      if (!header) {
        peer = spawnPeer(cmd.replaceAll("{node}", String(node)));
        peers.push(peer);
        header = peer.header().then((doc) => {
          let h: Phase2Roots;
          try {
            const r = parseRoots(doc, "(their command's header)");
            if (r.phase !== 2) throw new RootsFileError("not a phase-2 header");
            h = r;
          } catch (e) {
            throw new CounterpartError(
              "theirs",
              `their command's first line is not a phase-2 header: ${(e as Error).message}`,
            );
          }
          if (h.node !== node) {
            throw new CounterpartError("theirs", `their command answers for node ${h.node}, not ${node}`);
          }
          expect(h, "their command");
          return h;
        });
      }
      return header;
    };
    return {
      final: async () => (await open()).final,
      at: async (ix) => {
        await open();
        return (await peer!.ask(ix)) as unknown[];
      },
    };
  }
  const mine = files.filter((f) => f.node === node && (f.from ?? f.node - 1) === from);
  mine.forEach((f, i) => expect(f, `their phase-2 file ${i + 1}`));
  const sparse = sparseSource(theirFileStates(files, node, from));
  return {
    final: () => {
      if (!mine.length) throw noCheckYet(node);
      return mine[0].final;
    },
    at: (ix) => {
      try {
        return sparse.at(ix);
      } catch (e) {
        if (e instanceof UnavailableError) {
          throw new UnavailableError(
            e.indices,
            `their check of node ${node} at steps ${e.indices.join(",")}`,
          );
        }
        throw e;
      }
    },
  };
}

/**
 * Their states of the check of `node` (from `from`) in their phase-2 files, by step.
 *
 * @example
 * ```ts
 * const known = theirFileStates(files, k, k - 1); // Map(step -> hash)
 * ```
 * @throws {CounterpartError} when their files contradict each other.
 */
export function theirFileStates(files: Phase2Roots[], node: number, from: number): Map<number, unknown> {
  const mine = files.filter((f) => f.node === node && (f.from ?? f.node - 1) === from);
  const map = new Map<number, unknown>();
  for (const f of mine) {
    if (f.final.step !== mine[0].final.step || f.final.hash !== mine[0].final.hash) {
      throw new CounterpartError(
        "theirs",
        `their phase-2 files for node ${node} claim different final states (step ${
          mine[0].final.step
        } and ${f.final.step})`,
      );
    }
    for (const s of f.states) {
      const before = map.get(s.step);
      if (before !== undefined && before !== s.hash) {
        throw new CounterpartError("theirs", `their phase-2 files give two states for step ${s.step}`);
      }
      map.set(s.step, s.hash);
    }
  }
  return map;
}

/**
 * The agent's session file: a file written before `tamper` was renamed `liesFrom` is read with
 * the party's behaviour kept (a restarted dishonest server defends the same result).
 */
import { assertEquals, assertThrows } from "../_assert.ts";
import { AgentSessionError, openSession } from "../../core/game/session.ts";

const who = {
  role: "server" as const,
  chainId: 31337,
  game: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const,
  account: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as const,
  anchor: { deployBlock: "1", blockHash: `0x${"ab".repeat(32)}` as const },
};

function sessionFile(tasks: Record<string, unknown>): string {
  const path = Deno.makeTempFileSync({ suffix: ".json" });
  Deno.writeTextFileSync(
    path,
    JSON.stringify({ format: "opml-agent/2", ...who, cursors: {}, pending: {}, tasks, disputes: {} }),
  );
  return path;
}

Deno.test("agent session: an old file's `tamper` is read as `liesFrom`", () => {
  const model = `0x${"02".repeat(32)}`;
  const s = openSession(sessionFile({ "1": { model, state: "answered", tamper: 10 } }), who);
  assertEquals<unknown>(s.tasks["1"], { model, state: "answered", liesFrom: 10 });
  const now = openSession(sessionFile({ "2": { model, state: "answered", liesFrom: 4 } }), who);
  assertEquals(now.tasks["2"].liesFrom, 4);
  assertThrows(
    () => openSession(sessionFile({ "3": { model, state: "answered", tamper: 0 } }), who),
    AgentSessionError,
    /task 3: liesFrom 0/,
  );
});

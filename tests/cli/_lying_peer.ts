/**
 * A counterpart for `opml challenge --theirs-cmd` that lies: it runs the real `opml roots ...
 * --serve` command given after `--` and passes its lines through, except as `mode` says:
 * - `exit-after=N`: answers N queries, then exits (an interrupted counterpart);
 * - `garbage`: answers every query with strings that are not hashes;
 * - `short`: answers one hash too few;
 * - `final=STEP`: claims another final step in its header;
 * - `exited-then-running`: answers the first step of the first query with its final (exited)
 *   state, the other steps truly (running states): an exited state that changes again.
 *
 * Usage: deno run -A _lying_peer.ts MODE -- COMMAND...
 */
const [mode, sep, ...cmd] = Deno.args;
if (sep !== "--" || !cmd.length) throw new Error("usage: _lying_peer.ts MODE -- COMMAND...");
const child = new Deno.Command(cmd[0], {
  args: cmd.slice(1),
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const toChild = child.stdin.getWriter();
const fromChild = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let buf = "";
async function childLine(): Promise<string> {
  for (;;) {
    const nl = buf.indexOf("\n");
    if (nl >= 0) {
      const l = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      return l;
    }
    const { value, done } = await fromChild.read();
    if (done) throw new Error("the real server ended");
    buf += value;
  }
}
const out = (s: string) => Deno.stdout.writeSync(new TextEncoder().encode(s + "\n"));
const header = JSON.parse(await childLine());
if (mode.startsWith("final=")) header.final.step = Number(mode.slice(6));
out(JSON.stringify(header));
let n = 0;
let inBuf = "";
const dec = new TextDecoder();
for await (const chunk of Deno.stdin.readable) {
  inBuf += dec.decode(chunk, { stream: true });
  let nl;
  while ((nl = inBuf.indexOf("\n")) >= 0) {
    const q = inBuf.slice(0, nl);
    inBuf = inBuf.slice(nl + 1);
    if (mode.startsWith("exit-after=") && n >= Number(mode.slice(11))) Deno.exit(0);
    n++;
    await toChild.write(new TextEncoder().encode(q + "\n"));
    const answer: string[] = JSON.parse(await childLine());
    if (mode === "garbage") out(JSON.stringify(answer.map(() => "0xnot-a-hash")));
    else if (mode === "short") out(JSON.stringify(answer.slice(1)));
    else if (mode === "exited-then-running" && n === 1) {
      out(JSON.stringify([header.final.hash, ...answer.slice(1)]));
    } else out(JSON.stringify(answer));
  }
}
await toChild.close();
await child.status;

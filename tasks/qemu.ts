/**
 * Run a MIPS guest ELF under `qemu-mips` (user mode), the independent reference implementation
 * of the ISA that the opml VM is tested against.
 *
 * The guest sees the same file descriptors as in the VM (docs/VM.md): stdin is /dev/null (so
 * `read(0)` returns 0, end of input), fds 3 and 5 are open read-only and fds 4 and 6 write-only
 * (the hint and preimage fds; under qemu they are /dev/null, so `fcntl(F_GETFL)` gives the VM's
 * values 0/1 and a hint write returns its count). The environment is cleared so that `QEMU_*`
 * variables cannot change the run.
 *
 * @module
 */

/** Options for {@link runQemu}. */
export interface QemuOptions {
  /** CPU model; the default `24Kf` is the 24K with its FPU (the runtime images use it). */
  cpu?: string;
  /** qemu executable (default `qemu-mips`, looked up in PATH). */
  qemu?: string;
  /** Kill the guest after this many milliseconds (default 120000). */
  timeoutMs?: number;
  /** Where hint writes (fd 4) go; default /dev/null. */
  hintOutPath?: string;
  /** Open fds 3..6 as described in the module doc (default true). */
  extraFds?: boolean;
}

/** The outcome of one guest run. */
export interface QemuResult {
  /** Everything the guest wrote to fd 1. */
  stdout: Uint8Array;
  /** Everything the guest wrote to fd 2 (plus qemu's own messages, if any). */
  stderr: Uint8Array;
  /** The guest's exit code (0..255), or 128 + signal number if qemu died from a signal. */
  exitCode: number;
  /** The signal that ended qemu, if any (e.g. `SIGKILL` after a timeout). */
  signal: string | null;
  /** True when the run was killed because it exceeded `timeoutMs`. */
  timedOut: boolean;
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * Run `qemu-mips -cpu 24Kf ELF` with stdin from /dev/null and the opml fd layout, capturing
 * stdout, stderr and the exit code.
 *
 * @param elfPath path of a static big-endian MIPS32 ELF
 * @param opts see {@link QemuOptions}
 * @returns the captured output and exit status
 * @throws if qemu cannot be started
 */
export async function runQemu(
  elfPath: string,
  opts: QemuOptions = {},
): Promise<QemuResult> {
  const qemu = opts.qemu ?? "qemu-mips";
  const cpu = opts.cpu ?? "24Kf";
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const hint = opts.hintOutPath ?? "/dev/null";
  const redirects = opts.extraFds === false
    ? "0</dev/null"
    : `0</dev/null 3</dev/null 4>${shellQuote(hint)} 5</dev/null 6>/dev/null`;
  const script = `exec ${shellQuote(qemu)} -cpu ${shellQuote(cpu)} ${shellQuote(elfPath)} ${redirects}`;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const out = await new Deno.Command("/bin/sh", {
      args: ["-c", script],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      clearEnv: true,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      signal: controller.signal,
    }).output();
    const signal = out.signal ?? null;
    return {
      stdout: out.stdout,
      stderr: out.stderr,
      exitCode: signal ? 128 + signalNumber(signal) : out.code,
      signal,
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

function signalNumber(sig: string): number {
  const table: Record<string, number> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGILL: 4,
    SIGTRAP: 5,
    SIGABRT: 6,
    SIGBUS: 7,
    SIGFPE: 8,
    SIGKILL: 9,
    SIGSEGV: 11,
    SIGPIPE: 13,
    SIGALRM: 14,
    SIGTERM: 15,
  };
  return table[sig] ?? 0;
}

if (import.meta.main) {
  const [elf, ...rest] = Deno.args;
  if (!elf || rest.length > 0) {
    console.error("usage: deno run -A tasks/qemu.ts PROGRAM.elf");
    Deno.exit(2);
  }
  const r = await runQemu(elf);
  await Deno.stdout.write(r.stdout);
  await Deno.stderr.write(r.stderr);
  Deno.exit(r.exitCode);
}

// A QEMU driven over qtest (QEMU's tests/qtest protocol on stdio): memory and
// port accesses as text commands, one "OK ..." answer each, and QEMU's trace
// events (log backend) read from its stderr.

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

/** QEMU would not start or stopped answering: its stderr says why. */
export class QemuError extends Error {}

export class Qtest {
  private readonly proc: ChildProcessWithoutNullStreams;
  private out = "";
  private err = "";
  /** Trace and error lines of stderr, in order. */
  readonly log: string[] = [];
  private waiting: { resolve: (line: string) => void; reject: (e: Error) => void } | undefined;
  private logWaiter: (() => void) | undefined;
  private exited: string | undefined;
  /** Settles when QEMU's stdio is closed: every stderr line is in `log`. */
  private readonly closed: Promise<void>;

  constructor(binary: string, args: readonly string[]) {
    this.proc = spawn(binary, [...args], { stdio: ["pipe", "pipe", "pipe"] });
    this.proc.stdout.setEncoding("utf8");
    this.proc.stderr.setEncoding("utf8");
    this.proc.stdout.on("data", (d: string) => this.onOut(d));
    this.proc.stderr.on("data", (d: string) => this.onErr(d));
    this.proc.on("error", (e) => this.onExit(`cannot run ${binary}: ${e.message}`));
    this.proc.on("exit", (code, signal) => this.onExit(`QEMU exited (${signal ?? `status ${code}`})`));
    this.proc.stdin.on("error", () => {}); // a QEMU that exited: reported by onExit
    this.closed = new Promise<void>((r) =>
      this.proc.on("close", () => {
        if (this.err) this.log.push(this.err);
        this.err = "";
        r();
      }),
    );
  }

  private onOut(d: string): void {
    this.out += d;
    for (let nl = this.out.indexOf("\n"); nl >= 0; nl = this.out.indexOf("\n")) {
      const line = this.out.slice(0, nl);
      this.out = this.out.slice(nl + 1);
      if (line.startsWith("IRQ ")) continue; // asynchronous interrupt lines (qtest_irq_handler)
      const w = this.waiting;
      this.waiting = undefined;
      w?.resolve(line);
    }
  }

  private onErr(d: string): void {
    this.err += d;
    for (let nl = this.err.indexOf("\n"); nl >= 0; nl = this.err.indexOf("\n")) {
      this.log.push(this.err.slice(0, nl));
      this.err = this.err.slice(nl + 1);
    }
    this.logWaiter?.();
  }

  private onExit(why: string): void {
    if (this.exited !== undefined) return;
    this.exited = why;
    const tail = this.log
      .concat(this.err ? [this.err] : [])
      .filter((l) => !/^\d+@|^vtd_/.test(l))
      .slice(-3)
      .join(" / ");
    const e = new QemuError(tail ? `${why}: ${tail}` : why);
    this.waiting?.reject(e);
    this.waiting = undefined;
    this.logWaiter?.();
  }

  /** One qtest command and its answer (qtest_process_command); "FAIL ..." or "ERR ..." is an error. */
  async cmd(line: string): Promise<string> {
    if (this.exited !== undefined) throw new QemuError(this.exited);
    const answer = new Promise<string>((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
    this.proc.stdin.write(`${line}\n`);
    const a = await answer;
    if (!a.startsWith("OK")) throw new QemuError(`qtest "${line}": ${a}`);
    return a;
  }

  /** Until a stderr line from index `from` on matches, or QEMU exits. */
  async waitLog(from: number, re: RegExp): Promise<void> {
    for (;;) {
      if (this.log.slice(from).some((l) => re.test(l))) return;
      if (this.exited !== undefined) throw new QemuError(this.exited);
      await new Promise<void>((r) => {
        this.logWaiter = r;
      });
      this.logWaiter = undefined;
    }
  }

  async read(addr: bigint, size: 4 | 8): Promise<bigint> {
    const a = await this.cmd(`${size === 4 ? "readl" : "readq"} 0x${addr.toString(16)}`);
    return BigInt(a.split(" ")[1]!);
  }

  async write(addr: bigint, size: 4 | 8, value: bigint): Promise<void> {
    await this.cmd(`${size === 4 ? "writel" : "writeq"} 0x${addr.toString(16)} 0x${value.toString(16)}`);
  }

  async readBytes(addr: bigint, n: number): Promise<Uint8Array> {
    const a = await this.cmd(`read 0x${addr.toString(16)} 0x${n.toString(16)}`);
    return Uint8Array.from(Buffer.from(a.split(" ")[1]!.slice(2), "hex"));
  }

  async writeBytes(addr: bigint, bytes: Uint8Array): Promise<void> {
    await this.cmd(`write 0x${addr.toString(16)} 0x${bytes.length.toString(16)} 0x${Buffer.from(bytes).toString("hex")}`);
  }

  async outl(port: number, value: number): Promise<void> {
    await this.cmd(`outl 0x${port.toString(16)} 0x${value.toString(16)}`);
  }

  /** PCI configuration write through the CF8/CFC mechanism (q35's pci_host_config_write). */
  async pciConfigWrite(bus: number, devfn: number, off: number, value: number): Promise<void> {
    await this.outl(0xcf8, (0x80000000 | (bus << 16) | (devfn << 8) | off) >>> 0);
    await this.outl(0xcfc, value >>> 0);
  }

  /**
   * Whether QEMU built its machine: it answers qtest once qemu_init is done
   * (qtest's "endianness" command); else the stderr lines it stopped with.
   */
  async started(): Promise<true | string[]> {
    try {
      await this.cmd("endianness");
      return true;
    } catch (e) {
      if (!(e instanceof QemuError) || this.exited === undefined) throw e;
      await this.closed;
      return this.log;
    }
  }

  async quit(): Promise<void> {
    if (this.exited !== undefined) return;
    const gone = new Promise<void>((r) => this.proc.once("exit", () => r()));
    this.proc.stdin.end();
    this.proc.kill("SIGTERM");
    await gone;
  }
}

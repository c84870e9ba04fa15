// What the live server (src/live/server.ts) and the record server
// (src/live/record.ts) share: one Unix socket the shims connect to, one
// connection per process, and every message handled in arrival order on one
// queue (a call is answered before the next is read from any process).

import { createServer, type Server, type Socket } from "node:net";
import { type Frame, FrameReader, M, parseReply, result } from "./protocol.ts";

/** One process under the shim. */
export class Conn {
  pid = 0;
  started = false;
  /** The caller's placeholder fd -> the model's fd, and back. */
  readonly toModel = new Map<number, number>();
  private readonly reader = new FrameReader();
  /** The requests sent and not answered yet, in order: the shim answers them one by one, in the order it got them. */
  private readonly waiters: { resolve: (f: Frame) => void; reject: (e: Error) => void }[] = [];
  closed = false;

  constructor(
    readonly sock: Socket,
    private readonly onCall: (c: Conn, f: Frame) => void,
  ) {
    sock.on("data", (chunk: Buffer) => {
      for (const f of this.reader.push(chunk)) {
        const w = f.type === M.REPLY || f.type === M.DONE ? this.waiters.shift() : undefined;
        if (w) w.resolve(f);
        else this.onCall(this, f);
      }
    });
    sock.on("close", () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w.reject(new Error("the process went away"));
    });
  }

  /** Send a request to the shim and wait for its REPLY. */
  async request(buf: Buffer): Promise<{ status: number; data: Buffer }> {
    return parseReply(await this.exchange(buf));
  }

  /**
   * Send a frame to the shim and wait for the frame that answers it (a REPLY, or record mode's DONE after CALL).
   * Several may be in flight: the shim serves its requests in order (a READ for each pointer range at once).
   */
  exchange(buf: Buffer): Promise<Frame> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error("the process went away"));
      this.waiters.push({ resolve, reject });
      this.sock.write(buf);
    });
  }

  /** Send a request whose REPLY nobody needs (a WRITE back into the caller): the shim serves it before the RESULT that follows. */
  post(buf: Buffer): void {
    this.exchange(buf).catch(() => {});
  }

  answer(ret: number | bigint): void {
    if (!this.closed) this.sock.write(result(ret));
  }
}

export abstract class ShimServer {
  private readonly server: Server;
  private readonly conns = new Set<Conn>();
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly socketPath: string) {
    this.server = createServer((sock) => {
      const c = new Conn(sock, (conn, f) => this.enqueue(() => this.handle(conn, f)));
      this.conns.add(c);
      sock.on("error", () => {});
      sock.on("close", () => {
        c.closed = true;
        this.conns.delete(c);
        this.enqueue(() => this.ended(c));
      });
    });
  }

  /** One message of a connection, in arrival order. */
  protected abstract handle(c: Conn, f: Frame): Promise<void>;
  /** The connection's process is gone (do_exit). */
  protected abstract ended(c: Conn): Promise<void>;
  /** A job that threw: the server's own fault, reported its way. */
  protected abstract failed(message: string): void;

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.socketPath, () => resolve());
    });
  }

  /** Wait for every connection to end (at most `ms`), then for the calls in hand, and stop. */
  async close(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.conns.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const c of this.conns) c.sock.destroy();
    while (this.conns.size) await new Promise((r) => setTimeout(r, 5));
    await this.queue;
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  protected enqueue(job: () => Promise<void>): void {
    this.queue = this.queue.then(job).catch((e: unknown) => this.failed((e as Error).message));
  }
}

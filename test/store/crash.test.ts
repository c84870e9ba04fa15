// docs/architecture.md "Bad input": a kill -9 during recording loses at most the batch in
// flight, and the file stays readable.

import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { TraceDb } from "../../src/store/tracedb.ts";
import { scratchDir } from "./helpers.ts";

describe("kill -9 while appending (docs/architecture.md Bad input)", () => {
  it("keeps every committed batch and a verifiable chain", async () => {
    const dir = scratchDir();
    const path = join(dir, "rec.db");
    const script = join(dir, "record.mts");
    const store = pathToFileURL(join(import.meta.dirname, "../../src/store/tracedb.ts")).href;
    writeFileSync(
      script,
      `import { TraceDb } from ${JSON.stringify(store)};
       const db = TraceDb.create(process.argv[2], { format: "iorr-trace", version: 1 });
       db.commitFile();
       for (let seq = 1; ; ) {
         const batch = [];
         for (let i = 0; i < 1000; i++, seq++) batch.push({ seq, op: "ioctl", payload: { pid: 100, fd: 3, iova: BigInt(seq) << 12n } });
         db.append(batch);
         process.stdout.write(db.count() + "\\n");
       }`,
    );
    const child = spawn(process.execPath, ["--import", "tsx", script, path], { stdio: ["ignore", "pipe", "inherit"] });
    const closed = new Promise((r) => child.once("close", r));
    let committed = 0;
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        const lines = chunk.toString().trim().split("\n");
        committed = Number(lines[lines.length - 1]);
        if (committed >= 20_000) {
          child.kill("SIGKILL");
          resolve();
        }
      });
      child.on("exit", (code, signal) => (signal === "SIGKILL" ? resolve() : reject(new Error(`recorder exited with ${code}`))));
    });
    await closed;
    const db = TraceDb.open(path);
    expect(db.count()).toBeGreaterThanOrEqual(committed);
    expect(db.count() % 1000).toBe(0);
    db.verifyChain();
    db.close();
  });
});

// docs/architecture.md "Bad input": a kill -9 during `iorr import` leaves only a temporary
// file that no command reads as a trace, and the next import to the target removes it; an
// import the simulator cannot finish exits 3 as replay does and writes nothing.

import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { iorr as run } from "./run.ts";
import { afterAll, describe, expect, it } from "vitest";
import { eventToJson } from "../../src/trace/jsonl.ts";
import { simpleEvents } from "../../tools/gen/simple.ts";

const dir = mkdtempSync(join(tmpdir(), "iorr-kill-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const iorr = (...args: string[]) => run(args);

const header = JSON.stringify({ format: "iorr-trace", version: 1, profile: "linux-6.19", title: "kill test" });

describe("kill -9 during iorr import", () => {
  it("leaves no trace at the target, a leftover that is refused, and the next import cleans it up", async () => {
    const big = join(dir, "big.jsonl");
    writeFileSync(
      big,
      `${header}\n${simpleEvents(200_000)
        .map((e) => JSON.stringify(eventToJson(e)))
        .join("\n")}\n`,
    );
    const target = join(dir, "t.db");
    const child = spawn(process.execPath, ["bin/iorr.mjs", "import", big, "-o", target], { stdio: "ignore" });
    const exited = new Promise((r) => child.once("exit", r));
    // Kill once the temporary database exists and has been written to for a moment.
    for (let i = 0; i < 1500 && !readdirSync(dir).some((f) => f.startsWith("t.db.tmp-")); i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    child.kill("SIGKILL");
    await exited;
    const left = readdirSync(dir).filter((f) => f.startsWith("t.db"));
    expect(left).not.toContain("t.db");
    const tmp = left.find((f) => /^t\.db\.tmp-\d+$/.test(f));
    expect(tmp).toBeDefined();
    const info = iorr("info", join(dir, tmp!));
    expect(info.status).toBe(2);
    expect(info.stderr).toMatch(/a temporary file of an import that did not finish, not a trace/);
    const small = join(dir, "small.jsonl");
    writeFileSync(small, `${header}\n{"op":"process","pid":1}\n`);
    expect(iorr("import", small, "-o", target).status).toBe(0);
    expect(readdirSync(dir).filter((f) => f.startsWith("t.db"))).toEqual(["t.db"]);
  }, 60_000);

  it("a trace the simulator cannot finish: exit 3 naming the event, nothing written", () => {
    const p = join(dir, "nm.jsonl");
    writeFileSync(p, `${header}\n{"op":"process","pid":1}\n{"op":"qemu.viommu","pid":1,"model":"arm-smmuv3"}\n`);
    const r = iorr("import", p, "-o", join(dir, "nm.db"));
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/event 2 \(qemu\.viommu\)/);
    expect(readdirSync(dir).filter((f) => f.startsWith("nm.db"))).toEqual([]);
  });
});

// tools/gen/vtd-matrix.ts writes the test/traces/vtd/matrix_*.jsonl and qi_*.jsonl traces
// (replayed by test/traces.test.ts); the committed traces must be what it
// writes, so a change to the generator is a change to the traces under review.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";

it("the committed VT-d matrix traces are the generator's output", () => {
  const dir = mkdtempSync(join(tmpdir(), "iorr-vtd-matrix-"));
  try {
    execFileSync(process.execPath, ["--import", "tsx", "tools/gen/vtd-matrix.ts", dir], { stdio: "pipe" });
    const files = readdirSync(dir).sort();
    expect(files).toEqual(
      readdirSync("test/traces/vtd")
        .filter((f) => f.startsWith("matrix_") || f.startsWith("qi_"))
        .sort(),
    );
    for (const f of files) expect(readFileSync(join(dir, f), "utf8"), f).toBe(readFileSync(join("test/traces/vtd", f), "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

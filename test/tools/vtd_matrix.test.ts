// tools/gen/vtd-matrix.ts writes the test/traces/vtd/matrix_*.jsonl and qi_*.jsonl traces (and fault_recording, beyond_ram,
// fault_processing_disable, translation_types, fs_walker, fault_events, inv_registers, interrupt_window, scalable_entry_checks,
// pt_address_space)
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
    // Every matrix_* and qi_* trace comes from the generator, which writes a few other traces too.
    expect(files).toEqual(expect.arrayContaining(readdirSync("test/traces/vtd").filter((f) => f.startsWith("matrix_") || f.startsWith("qi_"))));
    for (const f of files) expect(readFileSync(join(dir, f), "utf8"), f).toBe(readFileSync(join("test/traces/vtd", f), "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

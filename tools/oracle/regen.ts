// npm run oracle:regen -- --qemu <qemu-system-x86_64>: run the QEMU oracle over the
// VT-d/QEMU traces under test/traces and write each drivable trace's verdict to
// test/oracle/<name>.json (QEMU's answers, checked against iorr by test/oracle/verdicts.test.ts).
// The QEMU commit is read from the build's source tree (config-host.mak SRC_PATH).

import { Effect } from "effect";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { profileFor, readAll } from "../../src/cli/common.ts";
import { toJsonValue } from "../../src/model/outcome.ts";
import { runOracle } from "../../src/oracle/run.ts";
import { openSource } from "../../src/replay/source.ts";

const TRACE_DIRS = ["test/traces/vtd", "test/traces/qemu"];

function qemuCommit(binary: string): string {
  const mak = readFileSync(join(dirname(binary), "config-host.mak"), "utf8");
  const src = /^SRC_PATH=(.*)$/m.exec(mak)?.[1];
  if (!src) throw new Error(`${binary}: no SRC_PATH in config-host.mak`);
  const head = execFileSync("git", ["-C", src, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  const changed = execFileSync("git", ["-C", src, "diff", "--name-only", "HEAD"], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
  const patched = changed.join(" ") === "hw/misc/iommu-testdev.c include/hw/misc/iommu-testdev.h";
  if (changed.length && !patched) throw new Error(`${src}: changes other than tools/oracle/iommu-testdev-read.patch: ${changed.join(" ")}`);
  if (!patched) throw new Error(`${src}: tools/oracle/iommu-testdev-read.patch is not applied`);
  return head;
}

async function main(argv: string[]): Promise<number> {
  const i = argv.indexOf("--qemu");
  const binary = i >= 0 ? argv[i + 1] : undefined;
  if (!binary) {
    process.stderr.write("usage: npm run oracle:regen -- --qemu <path/to/build/qemu-system-x86_64>\n");
    return 2;
  }
  const commit = qemuCommit(binary);
  const written: string[] = [];
  for (const dir of TRACE_DIRS)
    for (const name of readdirSync(dir)
      .filter((f) => f.endsWith(".jsonl"))
      .sort()) {
      const file = join(dir, name);
      const program = Effect.gen(function* () {
        const src = yield* openSource(file);
        const profile = yield* profileFor("oracle", undefined, src);
        const events = yield* readAll(src);
        return yield* runOracle(binary, file, src.header, events, profile);
      });
      const exit = await Effect.runPromise(Effect.either(program));
      if (exit._tag === "Left") {
        const e = exit.left;
        process.stdout.write(`${file}: not driven: ${"describe" in e ? e.describe() : e.fault.message}\n`);
        continue;
      }
      const r = exit.right;
      const verdict = {
        qemu_commit: commit,
        trace: file,
        not_issued: r.notIssued.map((n) => n.seq),
        events: r.verdicts.map((v) => ({ seq: v.seq, op: v.op, ...("value" in v.qemu ? { value: v.qemu.value } : { outcome: v.qemu }) })),
        difference: r.difference && {
          seq: r.difference.seq,
          op: r.difference.op,
          field: r.difference.field,
          qemu: r.difference.qemu,
          iorr: toJsonValue(r.difference.iorr),
        },
      };
      const out = join("test/oracle", `${basename(name, ".jsonl")}.json`);
      writeFileSync(out, `${JSON.stringify(verdict, null, 2)}\n`);
      written.push(out);
      process.stdout.write(`${file}: ${r.verdicts.length} answers${r.difference ? `, differs at event ${r.difference.seq}` : ", agrees"} -> ${out}\n`);
    }
  // In the repository's formatting (biome), so that a regeneration shows only what QEMU changed.
  execFileSync(process.execPath, ["node_modules/@biomejs/biome/bin/biome", "format", "--write", ...written], { stdio: "ignore" });
  return 0;
}

process.exitCode = await main(process.argv.slice(2));

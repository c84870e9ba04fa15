// The differential fuzzer against QEMU: random intel-iommu guest programs
// (tools/fuzz/vtd_program.ts) given to `iorr oracle qemu`, each a real QEMU
// answering the same table writes, register accesses and DMAs as iorr. Every
// program that QEMU and iorr answer differently is kept (with --keep) and
// listed with its first difference; the hand-written conformance traces then
// pin what it found (docs/oracle.md "Random programs").
//
//   npm run fuzz:oracle -- --qemu <qemu-system-x86_64> [--seed S] [--count N] [--keep DIR] [--json]
//
// Exit status 0 when every program agreed, 1 when one differed, 2 on bad
// arguments or a program the oracle could not drive (a generator defect).

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { vtdProgram, type Mode } from "./vtd_program.ts";

interface Found {
  seed: number;
  mode: Mode;
  status: number;
  /** The oracle's JSON: the difference, or the error. */
  report: unknown;
  kept?: string;
}

function usage(msg: string): never {
  process.stderr.write(`fuzz:oracle: ${msg}\nusage: npm run fuzz:oracle -- --qemu <qemu-system-x86_64> [--seed S] [--count N] [--keep DIR] [--json]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]) {
  const a = { qemu: "", seed: 1, count: 50, keep: "", json: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = () => argv[++i] ?? usage(`${k} needs a value`);
    if (k === "--qemu") a.qemu = v();
    else if (k === "--seed" || k === "--count") {
      const n = Number(v());
      if (!Number.isSafeInteger(n) || n < 0) usage(`${k} must be a non-negative integer`);
      a[k === "--seed" ? "seed" : "count"] = n;
    } else if (k === "--keep") a.keep = v();
    else if (k === "--json") a.json = true;
    else usage(`unknown argument ${k}`);
  }
  if (a.qemu === "") usage("--qemu is required");
  return a;
}

const main = () => {
  const a = parseArgs(process.argv.slice(2));
  const iorr = join(dirname(fileURLToPath(import.meta.url)), "../../bin/iorr.mjs");
  const dir = mkdtempSync(join(tmpdir(), "iorr-fuzz-oracle-"));
  const found: Found[] = [];
  const byMode: Record<string, number> = {};
  let compared = 0;
  const tty = process.stderr.isTTY && !a.json;
  try {
    for (let seed = a.seed; seed < a.seed + a.count; seed++) {
      const p = vtdProgram(seed);
      byMode[p.mode] = (byMode[p.mode] ?? 0) + 1;
      const file = join(dir, `vtd-${seed}.jsonl`);
      writeFileSync(file, `${p.lines.join("\n")}\n`);
      const r = spawnSync(process.execPath, [iorr, "oracle", "qemu", file, "--qemu", a.qemu, "--json"], { encoding: "utf8" });
      const report = (() => {
        try {
          return JSON.parse(r.stdout) as { compared?: number; difference?: unknown; output?: string };
        } catch {
          return { output: r.stdout + r.stderr } as { compared?: number; difference?: unknown; output?: string };
        }
      })();
      compared += report.compared ?? 0;
      if (r.status !== 0) {
        const f: Found = { seed, mode: p.mode, status: r.status ?? -1, report: "difference" in report ? report.difference : report };
        if (a.keep) {
          mkdirSync(a.keep, { recursive: true });
          f.kept = join(a.keep, `vtd-${seed}.jsonl`);
          writeFileSync(f.kept, `${p.lines.join("\n")}\n`);
        }
        found.push(f);
      }
      if (tty) process.stderr.write(`\r${seed - a.seed + 1}/${a.count} programs, ${found.length} differing`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (tty) process.stderr.write("\n");
  }
  const summary = { seed: a.seed, count: a.count, by_mode: byMode, compared, differing: found.length, found };
  if (a.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    process.stdout.write(
      `${a.count} programs (${Object.entries(byMode)
        .map(([m, n]) => `${n} ${m}`)
        .join(", ")}), ${compared} answers compared, ${found.length} differing\n`,
    );
    for (const f of found) process.stdout.write(`  seed ${f.seed} (${f.mode}), exit ${f.status}: ${JSON.stringify(f.report)}${f.kept ? ` [${f.kept}]` : ""}\n`);
  }
  process.exit(found.some((f) => f.status !== 1) ? 2 : found.length > 0 ? 1 : 0);
};

main();

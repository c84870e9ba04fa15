// Byte flips in a trace database: every flip must be either refused (a StoreError, which the
// command line reports as bad input, exit 2) or harmless (everything a command reads, that is
// header, events with expect and outcome, checkpoints, is exactly what was written). A flip
// that is read back as something else, or that makes iorr fail any other way, is a finding.
//
//   npm run fuzz:db -- <trace.db> [--count N] [--seed S] [--json]
//
// The flips are deterministic for a seed. test/store/fuzz_db.test.ts runs a few hundred.

import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { storedToEvent } from "../../src/replay/source.ts";
import { StoreError, TraceDb } from "../../src/store/tracedb.ts";
import { prng } from "../bench/prng.ts";

export interface FuzzDbResult {
  flips: number;
  refused: number;
  harmless: number;
  /** Flips read back as different content, or failing other than with a StoreError. */
  findings: { offset: number; bit: number; what: string }[];
}

/** Everything a command can read from the file, decoded. */
function snapshot(path: string): unknown {
  const db = TraceDb.open(path, { readonly: true });
  try {
    const events = db.read(1, db.count());
    for (const e of db.read(1, db.count())) storedToEvent(e, path);
    const checkpoints = db.checkpointStatus();
    // A corrupt checkpoint is refused as `iorr info` refuses it (exit 2).
    const bad = checkpoints.find((c) => !c.ok);
    if (bad) throw new StoreError(path, "corrupt checkpoint", bad.seq, "checkpoint");
    const states = checkpoints.map((c) => [c.profile, c.seq, Buffer.from(db.nearestCheckpoint(c.profile, c.seq)!.state).toString("hex")]);
    return { header: db.header(), count: db.count(), head: db.headHash(), profile: db.getMeta("checkpoint_profile"), events, states };
  } finally {
    db.close();
  }
}

export function fuzzDb(path: string, count: number, seed = 1): FuzzDbResult {
  const original = snapshot(path);
  const bytes = readFileSync(path);
  const dir = mkdtempSync(join(tmpdir(), "iorr-fuzz-db-"));
  const rnd = prng(seed);
  const result: FuzzDbResult = { flips: 0, refused: 0, harmless: 0, findings: [] };
  try {
    const copy = join(dir, "t.db");
    // Most of a small file is free page space: aim nine flips in ten at bytes that hold something.
    const used: number[] = [];
    for (let o = 0; o < bytes.length; o++) if (bytes[o] !== 0) used.push(o);
    for (let i = 0; i < count; i++) {
      const offset = rnd() < 0.9 && used.length ? used[Math.floor(rnd() * used.length)]! : Math.floor(rnd() * bytes.length);
      const bit = Math.floor(rnd() * 8);
      const mutated = Buffer.from(bytes);
      mutated[offset]! ^= 1 << bit;
      writeFileSync(copy, mutated);
      result.flips++;
      try {
        const got = snapshot(copy);
        if (isDeepStrictEqual(got, original)) result.harmless++;
        else result.findings.push({ offset, bit, what: "read back as different content" });
      } catch (e) {
        if (e instanceof StoreError) result.refused++;
        else result.findings.push({ offset, bit, what: `${(e as Error)?.name}: ${(e as Error)?.message}` });
      }
      rmSync(copy, { force: true });
      rmSync(`${copy}-journal`, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = process.argv.slice(2);
  const flag = (name: string, def: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : def);
  const file = args.find((a, i) => !a.startsWith("--") && !["--count", "--seed"].includes(args[i - 1] ?? ""));
  const count = Number(flag("--count", "500"));
  const seed = Number(flag("--seed", "1"));
  if (!file || !Number.isInteger(count) || count < 1 || !Number.isInteger(seed)) {
    process.stderr.write("usage: tools/fuzz/db.ts <trace.db> [--count N] [--seed S] [--json]\n");
    process.exit(2);
  }
  const tmp = join(mkdtempSync(join(tmpdir(), "iorr-fuzz-src-")), "src.db");
  copyFileSync(file, tmp);
  let r: FuzzDbResult;
  try {
    r = fuzzDb(tmp, count, seed);
  } catch (e) {
    if (!(e instanceof StoreError)) throw e;
    process.stderr.write(`${file}: not a sound trace database to start from: ${e.detail}\n`);
    process.exit(2);
  }
  rmSync(join(tmp, ".."), { recursive: true, force: true });
  if (args.includes("--json")) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    process.stdout.write(`${file}: ${r.flips} byte flips: ${r.refused} refused (exit 2), ${r.harmless} harmless, ${r.findings.length} findings\n`);
    for (const f of r.findings) process.stdout.write(`  offset ${f.offset} bit ${f.bit}: ${f.what}\n`);
  }
  process.exit(r.findings.length ? 1 : 0);
}

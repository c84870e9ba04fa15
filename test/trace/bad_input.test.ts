// Bad input (docs/trace-format.md "Events", "Header", "Values"): a malformed trace is
// refused when it is read, exit status 2, with a message naming file, line, event and
// field in the trace's own terms; never a warning, never a silently different replay.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Effect, Either } from "effect";
import { afterAll, describe, expect, it } from "vitest";
import { fileError, readJsonlTrace } from "../../src/trace/jsonl.ts";
import { openSource } from "../../src/replay/source.ts";
import { traceFiles, uncleanMessage } from "../../tools/fuzz/traces.ts";

const dir = mkdtempSync(join(tmpdir(), "iorr-bad-input-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const HEADER = '{"format":"iorr-trace","version":1}';

/** The message `iorr` prints for a trace made of these lines, or "accepted". */
function read(...lines: string[]): string {
  const p = join(dir, `t${++n}.jsonl`);
  writeFileSync(p, `${lines.join("\n")}\n`);
  const r = Effect.runSync(Effect.either(readJsonlTrace(p)));
  if (Either.isRight(r)) return "accepted";
  const m = r.left.describe();
  expect(uncleanMessage(m), m).toBe(false);
  return m.slice(p.length);
}

describe("unknown event fields", () => {
  it("every field version 1 does not define is bad input, with the field it most likely misspells (case, or two edits)", () => {
    const ev = '{"op":"ioctl","pid":1,"fd":3,"cmd":"IOMMU_IOAS_ALLOC"';
    expect(read(HEADER, `${ev},"ARG":{}}`)).toBe(':2: event 1: field ARG: unknown field for op "ioctl" (did you mean "arg"?)');
    expect(read(HEADER, `${ev},"EXPECT":{"ret":0}}`)).toBe(':2: event 1: field EXPECT: unknown field for op "ioctl" (did you mean "expect"?)');
    expect(read(HEADER, `${ev},"exepct":{"ret":0}}`)).toMatch(/field exepct: .*did you mean "expect"/);
    expect(read(HEADER, '{"op":"process","Pid":1}')).toMatch(/field Pid: .*did you mean "pid"/);
    expect(read(HEADER, '{"op":"process","pid":1,"comment":"vmm"}')).toMatch(
      /field comment: unknown field for op "process" \(known: op, seq, pid, caps, parent, expect\)/,
    );
    expect(read(HEADER, '{"op":"proces","pid":1}')).toMatch(/field op: unknown op "proces" \(did you mean "process"\?\)/);
  });

  it("an unknown capability name is refused (CAP_FOO), as any unknown flag name", () => {
    expect(read(HEADER, '{"op":"process","pid":1,"caps":["CAP_FOO"]}')).toMatch(/field caps: element 0: unknown flag "CAP_FOO"/);
  });
});

describe("the committed traces", () => {
  it("every trace in traces/ and test/traces/ reads under these rules, with no field version 1 does not define and no warning", () => {
    const files = traceFiles(["traces", "test/traces"]);
    expect(files.length).toBeGreaterThan(100);
    for (const f of files) {
      const r = Effect.runSync(Effect.either(readJsonlTrace(f)));
      expect(Either.isLeft(r) ? r.left.describe() : r.right.warnings, f).toEqual([]);
    }
  });
});

describe("integers JSON cannot hold exactly", () => {
  it("a number beyond 2^53-1 is refused wherever it is (fields, arg members, inline data, expect), telling to write it as a string", () => {
    const big = "9007199254740993"; // JSON.parse reads 9007199254740992
    const cases: [string, string][] = [
      [`{"op":"mem.map","pid":1,"va":${big},"length":4096}`, "va"],
      [`{"op":"ioctl","pid":1,"fd":3,"cmd":"IOMMU_IOAS_MAP","arg":{"iova":${big}}}`, "arg.iova"],
      [`{"op":"ioctl","pid":1,"fd":3,"cmd":"IOMMU_HWPT_ALLOC","arg":{"data_type":"VTD_S1","data":{"pgtbl_addr":${big}}}}`, "arg.data.pgtbl_addr"],
      [`{"op":"dma","bdf":"0000:01:00.0","iova":0,"access":"read","expect":{"pa":${big}}}`, "expect.pa"],
      [`{"op":"ioctl","pid":1,"fd":3,"cmd":"IOMMU_IOAS_MAP","expect":{"ret":0,"out":{"iova":${big}}}}`, "expect.out.iova"],
      [`{"op":"mem.write","pid":1,"va":0,"u64":[1,${big}]}`, "u64[1]"],
      [`{"op":"param","name":"vfio.pasid_quota","value":1e300}`, "value"],
    ];
    for (const [line, field] of cases)
      expect(read(HEADER, line)).toBe(
        `:2: event 1: field ${field}: a JSON number this large is not exact (it reads as ${line.includes("1e300") ? "1e+300" : "9007199254740992"}): write the integer as a string, "0x..." or decimal`,
      );
    expect(read(HEADER, '{"op":"mem.map","pid":1,"va":"0x20000000000001","length":4096}')).toBe("accepted");
  });
});

describe("the header", () => {
  it("a known key in another case is bad input; a near miss of profile too (it would replay under the default profile)", () => {
    expect(read('{"format":"iorr-trace","version":1,"Profile":"linux-6.19"}')).toBe(':1: field Profile: header keys are lower case: did you mean "profile"?');
    expect(read('{"format":"iorr-trace","VERSION":1}')).toBe(':1: field VERSION: header keys are lower case: did you mean "version"?');
    expect(read('{"format":"iorr-trace","version":1,"proflie":"linux-6.19"}')).toMatch(/^:1: field proflie: did you mean "profile"\?/);
    expect(read('{"format":"iorr-trace","version":1,"title":{}}')).toBe(":1: field title: expected a string, got an object");
    expect(read('{"format":"iorr-trace","version":1,"seed":9007199254740993}')).toMatch(
      /^:1: field seed: expected a string or an integer, got a JSON number this large/,
    );
  });

  it("other keys stay metadata; a near miss of title, source or seed is kept and warned about", () => {
    const p = join(dir, "meta.jsonl");
    writeFileSync(p, '{"format":"iorr-trace","version":1,"titel":"x","generator":"hand"}\n');
    const t = Effect.runSync(readJsonlTrace(p));
    expect(t.header.generator).toBe("hand");
    expect(t.warnings).toEqual([`${p}:1: header key titel: kept as metadata (did you mean "title"?)`]);
  });

  it("a missing format or version says so, without a JS value", () => {
    expect(read('{"version":1}')).toMatch(/^:1: field format: missing/);
    expect(read('{"format":"iorr-trace"}')).toBe(":1: field version: this iorr reads trace format version 1, the file says no version");
  });
});

describe("the trace file", () => {
  it("a directory, a missing file, an unreadable file: said in words, not as Node's error codes", () => {
    const d = join(dir, "adir.jsonl");
    mkdirSync(d);
    const r = Effect.runSync(Effect.either(readJsonlTrace(d)));
    expect(Either.isLeft(r) && r.left.describe()).toBe(`${d}: is a directory`);
    const db = join(dir, "adir.db");
    mkdirSync(db);
    const s = Effect.runSync(Effect.either(openSource(db)));
    expect(Either.isLeft(s) && s.left.describe()).toBe(`${db}: is a directory`);
    const missing = Effect.runSync(Effect.either(readJsonlTrace(join(dir, "none.jsonl"))));
    expect(Either.isLeft(missing) && missing.left.message).toBe("no such file");
    // EACCES as open(2) reports it (root reads any file, so the code is given directly)
    expect(fileError(Object.assign(new Error("EACCES: permission denied, open 'x'"), { code: "EACCES" }))).toBe("permission denied");
    const locked = join(dir, "locked.jsonl");
    writeFileSync(locked, `${HEADER}\n`);
    chmodSync(locked, 0);
    const l = Effect.runSync(Effect.either(readJsonlTrace(locked)));
    if (Either.isLeft(l)) expect(l.left.message).toBe("permission denied");
  });
});

describe("files cut short (a truncated file is said to be truncated)", () => {
  it("a JSONL line that ends inside a value, and a lone '{'", () => {
    expect(read(HEADER, '{"op":"process","pi')).toMatch(/^:2: truncated: the line ends inside a JSON value/);
    expect(read("{")).toMatch(/^:1: truncated: the line ends inside a JSON value/);
    // Not cut short, only wrong: said as invalid JSON.
    expect(read(HEADER, '{"op":"process","pid":1}}')).toMatch(/^:2: not valid JSON/);
  });

  it("a database cut to its first byte, whatever its name, is a truncated database", () => {
    const p = join(dir, "cut-copy");
    writeFileSync(p, "S");
    const r = Effect.runSync(Effect.either(openSource(p)));
    expect(Either.isLeft(r) && r.left.describe()).toBe(`${p}: truncated: 1 byte, shorter than the 100-byte header every trace database starts with`);
  });
});

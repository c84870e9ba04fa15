// The kernel's iommufd selftest run under `iorr live` (npm run selftest:kernel, docs/selftest.md):
// the committed session replays with every expectation holding, without a compiler or the kernel's
// source, and the committed per-case results agree with themselves and with the TAP parser.
import { Effect, Exit } from "effect";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ProfileService } from "../../src/model/framework.ts";
import { toJsonValue } from "../../src/model/outcome.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { replay } from "../../src/replay/engine.ts";
import { memorySource, Trace } from "../../src/replay/source.ts";
import { readJsonlTrace } from "../../src/trace/jsonl.ts";
// @ts-expect-error: plain JavaScript tool without declarations
import { parseTap } from "../../tools/selftest/kernel.mjs";

/** The committed session, gzip-compressed; replayed from a plain copy in a temporary directory. */
function sessionFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "iorr-selftest-"));
  const file = join(dir, "session.jsonl");
  writeFileSync(file, gunzipSync(readFileSync("test/selftest/session.jsonl.gz")));
  return file;
}

describe("the kernel selftest session (tools/selftest/kernel.mjs)", () => {
  it("replays with --verify: every answer iorr live gave the selftest is the model's answer again", () => {
    const SESSION = sessionFile();
    const t = Effect.runSync(readJsonlTrace(SESSION));
    const profile = resolveProfile(typeof t.header.profile === "string" ? [t.header.profile] : t.header.profile);
    const exit = Effect.runSyncExit(
      replay({ verify: true }).pipe(Effect.provideService(Trace, memorySource(SESSION, t.header, t.events)), Effect.provideService(ProfileService, profile)),
    );
    if (Exit.isFailure(exit)) throw new Error(JSON.stringify(exit.cause));
    expect(exit.value.divergence && { ...exit.value.divergence, actual: toJsonValue(exit.value.divergence.actual) }).toBeNull();
    expect(exit.value.verified).toBe(t.events.filter((e) => e.expect).length);
    expect(t.events[0]).toMatchObject({ op: "host.iommu", type: "selftest_mock" });
    rmSync(dirname(SESSION), { recursive: true, force: true });
  });

  it("results.json: every case of the harness's plan once, the counts their sum", () => {
    const r = JSON.parse(readFileSync("test/selftest/results.json", "utf8"));
    expect(r.cases.length).toBe(r.total);
    expect(r.cases.map((c: { n: number }) => c.n)).toEqual([...Array(r.total).keys()].map((i) => i + 1));
    for (const k of ["pass", "fail", "skip"] as const)
      expect(r.cases.filter((c: { result: string }) => c.result === k).length).toBe(r[`${k === "pass" ? "passed" : k === "fail" ? "failed" : "skipped"}`]);
  });

  it("parseTap: kselftest_harness's ok / not ok / # SKIP lines, a failure's assertion lines before it", () => {
    const tap = [
      "TAP version 13",
      "1..3",
      "#  RUN           a.one ...",
      "# /x/iommufd.c:10:one:Expected 0 (0) == f() (-1)",
      "not ok 1 a.one",
      "ok 2 a.two",
      "ok 3 a.three # SKIP no huge pages",
    ].join("\n");
    expect(parseTap(tap)).toEqual({
      total: 3,
      cases: [
        { n: 1, name: "a.one", result: "fail", reason: "iommufd.c:10: Expected 0 (0) == f() (-1)" },
        { n: 2, name: "a.two", result: "pass" },
        { n: 3, name: "a.three", result: "skip", reason: "no huge pages" },
      ],
    });
  });
});

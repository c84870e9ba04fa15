// The story `iorr demo` tells on the samples: record a boot, replay it
// verified, jump to an event, explain a translation, bisect a behaviour change
// over a preset, audit PASIDs. Each step runs the command a user would type (in
// process, its text captured and shown indented) and prints that command line;
// a step succeeds when its command exits 0 and its figures show it did what the
// step says.

import { Cause, Effect, Exit, Option } from "effect";
import { join } from "node:path";
import type { TraceEvent } from "../../model/events.ts";
import { parseArgs } from "../args.ts";
import { readAll, usingTrace, type Command } from "../common.ts";
import { progressBar, type Progress } from "../progress.ts";
import { errorJson, Output } from "../report.ts";
import { auditCommand } from "./audit.ts";
import { bisectCommand } from "./bisect.ts";
import { diffCommand } from "./diff.ts";
import { recordCommand } from "./record.ts";
import { replayCommand } from "./replay.ts";
import { whyCommand } from "./why.ts";

/** The samples the story uses, in the samples directory. */
export const STORY_SAMPLES = {
  /** A trace recorded under one preset that diverges under the next (seed 003 V4 against linux-mainline). */
  bisect: "14-bisect-null-group.jsonl",
  bisectPreset: "linux-mainline",
  /** Seed 002's PASID requests under quotas. */
  pasid: "13-pasid-quota.jsonl",
} as const;

/** The name the story gives the recorded database in the commands it prints (the demo writes it in a temporary directory). */
const BOOT_DB = "boot.db";

/** An Output that keeps the command's text instead of writing it. */
class Captured extends Output {
  readonly lines: string[] = [];
  constructor() {
    super(false);
  }
  override print(line = ""): void {
    this.lines.push(line);
  }
  override warn(message: string): void {
    this.lines.push(`warning: ${message}`);
  }
  override progress(label: string): Progress {
    return progressBar(label, false);
  }
}

export interface StepResult {
  step: string;
  command: string;
  status: number;
  ok: boolean;
  /** Why the step did not do what it says, when it did not. */
  reason?: string;
  result: Record<string, unknown>;
}

/** Run one command in process: its exit status, its --json figures (or error) and the lines it printed. */
function runCommand(name: string, cmd: Command, argv: string[]): Effect.Effect<{ status: number; json: Record<string, unknown>; lines: string[] }> {
  const out = new Captured();
  return Effect.exit(Effect.flatMap(parseArgs(name, argv, cmd), (a) => cmd.run(a, out))).pipe(
    Effect.map((exit) => {
      if (Exit.isSuccess(exit)) return { status: exit.value.status, json: exit.value.json, lines: out.lines };
      const failure = Option.getOrUndefined(Cause.failureOption(exit.cause));
      const error = failure ? errorJson(failure) : { kind: "simulator-fault", reason: "internal", message: Cause.pretty(exit.cause) };
      return { status: error.kind === "bad-input" ? 2 : 3, json: { error }, lines: [...out.lines, `error: ${error.message}`] };
    }),
  );
}

const MAX_LINES = 14;

export interface StoryIo {
  print(line?: string): void;
}

/**
 * The story on the samples in `dir`, with the recorded database in `work`.
 * Every step's result, in order; a step that cannot run (the one before it
 * failed) is reported as failed, not left out.
 */
export function tellStory(dir: string, work: string, io: StoryIo): Effect.Effect<StepResult[]> {
  return Effect.gen(function* () {
    const steps: StepResult[] = [];
    const db = join(work, BOOT_DB);
    const shown = (s: string) => s.split(`${work}/`).join("");
    const step = (
      title: string,
      name: string,
      cmd: Command,
      argv: string[],
      check: (json: Record<string, unknown>) => string | undefined,
    ): Effect.Effect<StepResult> =>
      Effect.gen(function* () {
        const command = `iorr ${name} ${argv.map((a) => (/^[\w./:,=-]+$/.test(a) ? a : `'${a}'`)).join(" ")}`;
        io.print(`${steps.length + 1}. ${title}`);
        io.print(`   $ ${shown(command)}`);
        const r = yield* runCommand(name, cmd, argv);
        const lines = r.lines.map(shown);
        for (const l of lines.slice(0, MAX_LINES)) io.print(`     ${l}`);
        if (lines.length > MAX_LINES) io.print(`     ... (${lines.length - MAX_LINES} more lines)`);
        const reason = r.status !== 0 ? `exit status ${r.status}` : check(r.json);
        if (reason) io.print(`   FAILED: ${reason}`);
        io.print("");
        const s: StepResult = {
          step: title,
          command: shown(command),
          status: r.status,
          ok: reason === undefined,
          ...(reason ? { reason } : {}),
          result: r.json,
        };
        steps.push(s);
        return s;
      });

    const rec = recordBoot(db);
    const recorded = yield* step(rec.title, rec.name, rec.cmd, rec.argv, (j) =>
      typeof j.events === "number" && j.events > 0 ? undefined : "no events recorded",
    );
    if (!recorded.ok) return steps;

    yield* step("replay it, verifying every recorded outcome", "replay", replayCommand, [db, "--verify"], (j) =>
      j.divergence === null && typeof j.verified === "number" && j.verified > 0 ? undefined : "an outcome diverged, or nothing was verified",
    );

    // Jump to the event that first attaches the device, and the one whose DMA translated last: found in the recording, not fixed here.
    const events = yield* usingTrace(db, new Captured(), (src) => readAll(src)).pipe(Effect.orElseSucceed(() => [] as TraceEvent[]));
    const attach = events.find((e) => e.op === "ioctl" && e.cmd === "VFIO_DEVICE_ATTACH_IOMMUFD_PT" && isRet0(e.expect));
    const at = attach?.seq ?? Math.max(1, Math.floor(events.length / 2));
    yield* step(
      `jump to event ${at}${attach ? " (the device's attach)" : ""}: what it changed`,
      "diff",
      diffCommand,
      [db, "--from", String(at - 1), "--to", String(at)],
      (j) => (Array.isArray(j.changes) && j.changes.length > 0 ? undefined : "no change at that event"),
    );

    const dma = events.filter((e) => e.op === "dma" && e.expect !== undefined && "pa" in e.expect).pop();
    if (dma) {
      yield* step(`explain the translation of the DMA at event ${dma.seq}`, "why", whyCommand, [db, ...dmaFlags(dma), "--at", String(dma.seq)], (j) => {
        const o = j.outcome as Record<string, unknown> | undefined;
        return o && "pa" in o && Array.isArray(j.events) && j.events.length > 0 ? undefined : "no translation, or nothing established it";
      });
    } else {
      steps.push({ step: "explain a translation", command: "", status: 1, ok: false, reason: "the recording has no DMA that translated", result: {} });
      io.print("explain a translation: FAILED: the recording has no DMA that translated");
    }

    yield* step(
      `bisect a behaviour change: the first ${STORY_SAMPLES.bisectPreset} switch under which a trace recorded under seed 003 V4 stops verifying`,
      "bisect",
      bisectCommand,
      ["profile", join(dir, STORY_SAMPLES.bisect), "--preset", STORY_SAMPLES.bisectPreset],
      (j) => (typeof j.switch === "string" && j.divergence !== null ? undefined : "no switch of the preset changes the trace"),
    );

    yield* step("audit PASIDs: per process against its quota, and the findings", "audit", auditCommand, ["pasid", join(dir, STORY_SAMPLES.pasid)], (j) =>
      Array.isArray(j.processes) && j.processes.length > 0 && Array.isArray(j.findings) && j.findings.length > 0 ? undefined : "no process or no finding",
    );
    return steps;
  });
}

/**
 * The record step: `iorr record --scenario vtd-passthrough-boot --seed 1` (src/scenarios/): QEMU with the
 * iommufd backend and an intel-iommu, a passthrough device, the guest enabling the vIOMMU, nested HWPTs,
 * DMA with and without PASID, a reset and shutdown. The later steps work on what it wrote.
 */
function recordBoot(db: string): { title: string; name: string; cmd: Command; argv: string[] } {
  return {
    title: "record a boot (QEMU with an intel-iommu and a VT-d passthrough device: nested HWPT, guest tables, DMA with and without PASID)",
    name: "record",
    cmd: recordCommand,
    argv: ["--scenario", "vtd-passthrough-boot", "--seed", "1", "-o", db],
  };
}

function isRet0(e: TraceEvent["expect"]): boolean {
  return e !== undefined && "ret" in e && e.ret === 0;
}

/** why's --dma flags for a recorded dma event: a host device by bdf, an emulated one by guest bdf and QEMU pid. */
function dmaFlags(e: TraceEvent): string[] {
  const opts = [e.pid !== undefined ? `pid=${e.pid}` : "", e.pasid !== undefined ? `pasid=${e.pasid}` : ""].filter((o) => o !== "");
  const dev = String(e.bdf ?? e.guest_bdf);
  const iova = typeof e.iova === "number" || typeof e.iova === "bigint" ? `0x${e.iova.toString(16)}` : String(e.iova);
  return ["--dma", [dev, ...opts].join(","), "--iova", iova, "--access", String(e.access ?? "read")];
}

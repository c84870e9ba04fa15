// The debugger behind `iorr debug` (docs/architecture.md "Queries"): a position in
// the trace (the state after event N), moved with step/back/goto, read with print,
// and watches, of a path of the state or of a probe's outcome, that `continue` and
// `reverse-continue` run to, as rr's watchpoints do. One command line in, lines of
// text out (exec), so that it is driven the same from a terminal, a pipe or a test.
//
// Moving to N seeks (Timeline: nearest checkpoint, then at most 4095 folds) and folds
// event N itself to show what it answered. `continue` folds forward one event at a
// time and stops at the first event after which a watch's value differs from the one
// before it. `reverse-continue` finds the last such event before the position: a
// watch may change and change back, so it is not bisected but scanned backwards one
// checkpoint interval at a time, each interval folded forward once from its
// checkpoint (kept in memory by the Timeline after the first pass).

import { Effect, Either } from "effect";
import type { TraceEvent } from "../model/events.ts";
import type { BadInput, ProfileService, SimulatorFault } from "../model/framework.ts";
import type { Outcome } from "../model/outcome.ts";
import type { State } from "../model/state.ts";
import { hex } from "../model/values.ts";
import { CHECKPOINT_INTERVAL } from "../replay/engine.ts";
import { storeCall, type TraceSource } from "../replay/source.ts";
import { Timeline } from "../replay/timeline.ts";
import { diffStates, equal } from "./diff.ts";
import { describeMiss, selectStatePath } from "./memory.ts";
import { foldOne, parseProbe, probeAt } from "./probe.ts";
import { children } from "./path.ts";
import { describeChange, inline, renderValue } from "./render.ts";

/** A watch's value at a point: the value at its path (or that the path is not there), or the probe's outcome (or its fault). */
type Sample = { found: true; value: unknown } | { found: false; why: string };

interface Watch {
  n: number;
  /** As typed: a path, or the probe's JSON. */
  text: string;
  probe?: TraceEvent;
}

export interface Reply {
  lines: string[];
  quit?: boolean;
}

type Run<A> = Effect.Effect<A, BadInput, ProfileService>;

const HELP = [
  "step [n] (s)         forward n events (default 1)",
  "back [n] (b)         backward n events",
  "goto N               to the state after event N (0: before the first)",
  "print <path> (p)     a part of the state: processes.100, iommufd.1.objects, memory.0x40001000",
  "watch <path>         stop continue/reverse-continue where this part of the state changes",
  'watch <event json>   ... where this probe\'s outcome changes, e.g. watch {"op":"dma","bdf":"0000:01:00.0","iova":"0x1000","access":"read"}',
  "unwatch [n]          drop watch n (default: every watch)",
  "continue (c)         forward to the next event where a watch changes, or the end",
  "reverse-continue (rc) back to the previous event where a watch changed, or the start",
  "info                 the position, the event at point, the watches",
  "quit (q)             end the session",
];

const ALIASES: Record<string, string> = { s: "step", b: "back", p: "print", c: "continue", rc: "reverse-continue", q: "quit", exit: "quit" };

export class Debugger {
  private readonly timeline: Timeline;
  private pos = 0;
  private state: State | undefined;
  /** The event at point and its outcome (none at 0). */
  private here: { ev: TraceEvent; outcome: Outcome } | undefined;
  private watches: Watch[] = [];
  private nextWatch = 1;
  /** The first simulator fault met: the trace cannot be replayed past it. */
  fault: SimulatorFault | undefined;

  constructor(readonly source: TraceSource) {
    this.timeline = new Timeline(source);
  }

  get position(): number {
    return this.pos;
  }

  /** Run one command line. */
  exec(line: string): Run<Reply> {
    const words = line.trim().split(/\s+/);
    const name = ALIASES[words[0]!] ?? words[0]!;
    const rest = line.trim().slice(words[0]!.length).trim();
    const err = (message: string): Run<Reply> => Effect.succeed({ lines: [`error: ${message}`] });
    switch (name) {
      case "":
        return Effect.succeed({ lines: [] });
      case "help":
        return Effect.succeed({ lines: HELP });
      case "quit":
        return Effect.succeed({ lines: [], quit: true });
      case "step":
      case "back": {
        const n = rest === "" ? 1 : /^[0-9]+$/.test(rest) ? Number(rest) : undefined;
        if (n === undefined) return err(`${name}: expected a number of events, got "${rest}"`);
        return this.moveTo(name === "step" ? Math.min(this.pos + n, this.source.count) : Math.max(this.pos - n, 0));
      }
      case "goto": {
        if (!/^[0-9]+$/.test(rest) || Number(rest) > this.source.count) return err(`goto: expected an event number 0..${this.source.count}, got "${rest}"`);
        return this.moveTo(Number(rest));
      }
      case "print":
        return Effect.map(this.current(), (s) => {
          const r = selectStatePath(s, rest);
          if (!r.found) return { lines: [`error: print: ${describeMiss(r)}`] };
          const name = rest === "" ? "the state" : rest;
          return { lines: children(r.value) ? [`${name} =`, ...renderValue(r.value, "  ")] : [`${name} = ${inline(r.value)}`] };
        });
      case "watch":
        return this.watch(rest);
      case "unwatch": {
        if (rest === "") {
          const n = this.watches.length;
          this.watches = [];
          return Effect.succeed({ lines: [`${n} watch${n === 1 ? "" : "es"} dropped`] });
        }
        const w = this.watches.find((x) => String(x.n) === rest);
        if (!w) return err(`unwatch: no watch ${rest} (watches: ${this.watches.map((x) => x.n).join(", ") || "none"})`);
        this.watches = this.watches.filter((x) => x !== w);
        return Effect.succeed({ lines: [`watch ${w.n} dropped`] });
      }
      case "continue":
        return this.continueForward();
      case "reverse-continue":
        return this.reverseContinue();
      case "info":
        return this.info();
      default:
        return err(`unknown command "${words[0]}" (commands: step, back, goto, print, watch, unwatch, continue, reverse-continue, info, quit, help)`);
    }
  }

  /** The state at the position. */
  private current(): Run<State> {
    return this.state ? Effect.succeed(this.state) : Effect.map(this.seek(this.pos), () => this.state!);
  }

  /** Where the session stands: "event 12/21: ioctl pid=100 fd=3 cmd=IOMMU_IOAS_MAP -> {ret: 0}". */
  private where(): string {
    if (!this.here) return `event 0/${this.source.count}: before the first event`;
    return `event ${this.pos}/${this.source.count}: ${describeEvent(this.here.ev)} -> ${inline(this.here.outcome, 300)}`;
  }

  /** Make the state after event `to` current, with event `to`'s outcome; a fault is returned, not failed. */
  private seek(to: number): Run<SimulatorFault | undefined> {
    return Effect.gen(this, function* () {
      const before = yield* this.timeline.stateAt(Math.max(to - 1, 0)).pipe(
        Effect.map((s) => Either.right(s) as Either.Either<State, SimulatorFault>),
        Effect.catchTag("ReplayFault", (f) => Effect.succeed(Either.left(f.fault))),
      );
      if (Either.isLeft(before)) return yield* this.stopBefore(before.left);
      if (to === 0) {
        this.pos = 0;
        this.state = before.right;
        this.here = undefined;
        return undefined;
      }
      const ev = yield* this.event(to);
      const r = yield* foldOne(before.right, ev).pipe(Effect.either);
      if (Either.isLeft(r)) return yield* this.stopBefore(r.left);
      this.pos = to;
      this.state = r.right.state;
      this.here = { ev, outcome: r.right.outcome };
      return undefined;
    });
  }

  /** A fault at event f: the session stays at f-1 (events before it fold). */
  private stopBefore(f: SimulatorFault): Run<SimulatorFault> {
    this.fault ??= f;
    return Effect.as(this.seek(f.seq - 1), f);
  }

  private event(seq: number): Run<TraceEvent> {
    return storeCall(() => {
      for (const batch of this.source.batches(seq, seq, 1)) return batch[0]!;
      throw new Error(`event ${seq} is not in ${this.source.file}`);
    });
  }

  private moveTo(to: number): Run<Reply> {
    return Effect.map(this.seek(to), (f) => ({ lines: [...faultLines(f), this.where()] }));
  }

  private watch(text: string): Run<Reply> {
    if (text === "") return Effect.succeed({ lines: ["error: watch: expected a path of the state or a probe event (JSON)"] });
    let probe: TraceEvent | undefined;
    if (text.startsWith("{")) {
      const p = parseProbe(text, "watch");
      if (Either.isLeft(p)) return Effect.succeed({ lines: [`error: ${p.left.describe()}`] });
      probe = p.right;
    }
    const w: Watch = { n: this.nextWatch++, text, ...(probe ? { probe } : {}) };
    return Effect.gen(this, function* () {
      const s = yield* this.current();
      const v = yield* sample(w, s, this.pos);
      this.watches.push(w);
      return { lines: [`watch ${w.n}: ${w.text} = ${showSample(v)}`] };
    });
  }

  private samples(s: State, at: number): Run<Sample[]> {
    return Effect.forEach(this.watches, (w) => sample(w, s, at));
  }

  private continueForward(): Run<Reply> {
    if (this.watches.length === 0) return Effect.map(this.moveTo(this.source.count), (r) => ({ lines: ["no watches: to the end", ...r.lines] }));
    return Effect.gen(this, function* () {
      let state = yield* this.current();
      let prev = yield* this.samples(state, this.pos);
      const batches = yield* storeCall(() => this.source.batches(this.pos + 1, this.source.count, 4096)[Symbol.iterator]());
      for (;;) {
        const next = yield* storeCall(() => batches.next());
        if (next.done) break;
        for (const ev of next.value) {
          const r = yield* foldOne(state, ev).pipe(Effect.either);
          if (Either.isLeft(r)) {
            const f = yield* this.stopBefore(r.left);
            return { lines: [...faultLines(f), this.where()] };
          }
          state = r.right.state;
          const cur = yield* this.samples(state, ev.seq);
          const changed = this.changes(prev, cur);
          if (changed.length > 0) {
            this.pos = ev.seq;
            this.state = state;
            this.here = { ev, outcome: r.right.outcome };
            return { lines: [this.where(), ...changed] };
          }
          prev = cur;
        }
      }
      const r = yield* this.moveTo(this.source.count);
      return { lines: ["no watch changed: at the end", ...r.lines] };
    });
  }

  private reverseContinue(): Run<Reply> {
    if (this.watches.length === 0) return Effect.map(this.moveTo(0), (r) => ({ lines: ["no watches: to the start", ...r.lines] }));
    return Effect.gen(this, function* () {
      // The last k < pos whose watch values differ from those at k-1, one checkpoint interval at a time.
      for (let hi = this.pos - 1; hi >= 1; ) {
        const lo = Math.floor((hi - 1) / CHECKPOINT_INTERVAL) * CHECKPOINT_INTERVAL;
        let state = yield* this.timeline.stateAt(lo).pipe(Effect.catchTag("ReplayFault", (f) => Effect.die(f.fault)));
        let prev = yield* this.samples(state, lo);
        let last: { k: number; lines: string[] } | undefined;
        let k = lo + 1;
        for (const batch of yield* storeCall(() => [...this.source.batches(lo + 1, hi, 4096)]))
          for (const ev of batch) {
            // Events before the position were folded once already: a fault here is a defect.
            state = (yield* foldOne(state, ev).pipe(Effect.orDie)).state;
            const cur = yield* this.samples(state, k);
            const changed = this.changes(prev, cur);
            if (changed.length > 0) last = { k, lines: changed };
            prev = cur;
            k++;
          }
        if (last) {
          yield* this.seek(last.k);
          return { lines: [this.where(), ...last.lines] };
        }
        hi = lo;
      }
      const r = yield* this.moveTo(0);
      return { lines: ["no watch changed: at the start", ...r.lines] };
    });
  }

  /**
   * For each watch whose sample differs: "watch 1: path: before -> after", or for a
   * part of the state with parts, "watch 1: path changed:" and its diff, a line a change.
   */
  private changes(prev: readonly Sample[], cur: readonly Sample[]): string[] {
    const out: string[] = [];
    this.watches.forEach((w, i) => {
      const [a, b] = [prev[i]!, cur[i]!];
      if (sameSample(a, b)) return;
      if (!w.probe && a.found && b.found && children(a.value) && children(b.value)) {
        out.push(`watch ${w.n}: ${w.text} changed:`);
        for (const c of diffStates(a.value, b.value, w.text)) out.push(`  ${describeChange(c)}`);
      } else out.push(`watch ${w.n}: ${w.text}: ${showSample(a)} -> ${showSample(b)}`);
    });
    return out;
  }

  private info(): Run<Reply> {
    return Effect.gen(this, function* () {
      const s = yield* this.current();
      const lines = [`${this.source.file}: ${this.where()}`];
      if (this.fault) lines.push(`the simulator stops at event ${this.fault.seq} (${this.fault.op}): ${this.fault.message}`);
      if (this.watches.length === 0) lines.push("no watches");
      for (const w of this.watches) lines.push(`watch ${w.n}: ${w.text} = ${showSample(yield* sample(w, s, this.pos))}`);
      return { lines };
    });
  }
}

function sample(w: Watch, s: State, at: number): Run<Sample> {
  if (!w.probe) {
    const r = selectStatePath(s, w.text);
    return Effect.succeed(r.found ? { found: true, value: r.value } : { found: false, why: "not there" });
  }
  return probeAt(s, at, w.probe).pipe(
    Effect.map((o): Sample => ({ found: true, value: o })),
    Effect.catchTag("SimulatorFault", (f) => Effect.succeed<Sample>({ found: false, why: `simulator fault: ${f.message}` })),
  );
}

function sameSample(a: Sample, b: Sample): boolean {
  return a.found ? b.found && equal(a.value, b.value) : !b.found && a.why === b.why;
}

function showSample(v: Sample): string {
  return v.found ? inline(v.value, 300) : `(${v.why})`;
}

function faultLines(f: SimulatorFault | undefined): string[] {
  return f ? [`event ${f.seq} (${f.op}): ${f.kind === "bad-input" ? "bad input" : "simulator fault"}: ${f.message}; stopped before it`] : [];
}

/** An event by its op and scalar fields: "ioctl pid=100 fd=3 cmd=IOMMU_IOAS_MAP". */
export function describeEvent(ev: TraceEvent): string {
  const fields = Object.entries(ev)
    .filter(([k, v]) => k !== "seq" && k !== "op" && k !== "expect" && ["string", "number", "bigint", "boolean"].includes(typeof v))
    .map(([k, v]) => `${k}=${typeof v === "bigint" ? hex(v) : String(v)}`);
  return [ev.op, ...fields].join(" ");
}

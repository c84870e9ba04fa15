// iorr state <trace> [--at N] [--path <dotted.path>] [--profile P] [--json [--memory]]:
// the whole state after event N (by default after the last event), or the part of it
// a path names (src/query/path.ts; memory words as memory.<address>, src/query/memory.ts).

import { Effect } from "effect";
import { BadInput } from "../../model/framework.ts";
import type { State } from "../../model/state.ts";
import { hex } from "../../model/values.ts";
import { hashOf, type ReplayFault } from "../../replay/engine.ts";
import { Timeline } from "../../replay/timeline.ts";
import { checkEventFlag, intFlag } from "../args.ts";
import { EXIT, profileFor, stopped, usingTrace, withTrace, type Command } from "../common.ts";
import type { Output } from "../report.ts";
import { describeMiss, selectStatePath } from "../../query/memory.ts";
import { renderValue, valueJson } from "../../query/render.ts";
import { memoryJson, stateJson } from "./state_json.ts";

/** A readable page of the state: what a kernel engineer looks at first. */
export function describeState(s: State): string[] {
  const out: string[] = [];
  const iommu = s.host.iommu;
  out.push(
    iommu
      ? `host IOMMU: ${iommu.type}, ${iommu.awBits}-bit addresses, PASID width ${iommu.maxPasidLog2}${iommu.hwCaps.length ? `, ${iommu.hwCaps.join(" ")}` : ""}`
      : "host IOMMU: none declared",
  );
  const devices = [...s.host.devices.values()];
  out.push(`devices bound to vfio-pci: ${devices.length}`);
  for (const d of devices)
    out.push(
      `  ${d.bdf}  ${d.cdev ? `/dev/vfio/devices/${d.cdev}` : "(no cdev)"}  group ${d.groupNode ? `/dev/vfio/${d.groupNode}` : "none"}  ${d.noiommu ? "no-IOMMU" : d.mdev ? "mdev" : "IOMMU"}${d.pasid ? `  PASID ${d.pasid.maxLog2} bits` : ""}`,
    );
  const params = [...s.params.entries()];
  if (params.length) out.push(`module parameters: ${params.map(([k, v]) => `${k}=${String(v)}`).join(" ")}`);
  const procs = [...s.processes.values()];
  out.push(`processes: ${procs.length}`);
  for (const p of procs) {
    out.push(`  pid ${p.pid}${p.caps.length ? `  ${p.caps.join(" ")}` : ""}`);
    for (const [fd, id] of p.fds) {
      const f = s.files.get(id);
      out.push(`    fd ${fd} -> ${f ? `${f.path} (${f.kind})` : `file ${id}?`}`);
    }
    for (const r of p.mm)
      out.push(
        `    va ${hex(r.va)}-${hex(r.va + r.length - 1n)} -> pa ${hex(r.pa)}${r.stride === 1 ? " contiguous" : ` scattered (every ${r.stride} frames)`}, ${r.pageSize >= 1 << 20 ? `${r.pageSize >> 20} MiB` : `${r.pageSize >> 10} KiB`} pages`,
      );
  }
  for (const ctx of s.iommufd.values()) {
    out.push(`iommufd context of file ${ctx.fileId}: ${ctx.objects.size} object(s)`);
    for (const o of ctx.objects.values()) {
      let what: string = o.type;
      if (o.type === "ioas")
        what += `, ${o.areas.length} area(s)${o.areas.map((a) => ` ${hex(a.iova)}-${hex(a.last)}`).join("")}, domains [${o.domains.join(", ")}]`;
      if (o.type === "hwpt_paging") {
        const d = s.domains.table.get(o.domainId);
        const tables = d?.type === "paging" ? `, ${d.format} tables at ${hex(d.root)}${d.dirtyTracking ? ", dirty tracking" : ""}` : "";
        what += ` of IOAS ${o.ioasId}${o.auto ? " (auto)" : ""}, domain ${o.domainId}${tables}`;
      }
      if (o.type === "hwpt_nested") what += ` on parent ${o.parentId}, domain ${o.domainId}`;
      if (o.type === "device") what += ` ${o.bdf}${[...o.attach].map(([pasid, h]) => ` ${pasid < 0 ? "RID" : `PASID ${pasid}`} -> ${h}`).join(",")}`;
      out.push(`  ${o.id}: ${what} (users ${o.users})`);
    }
  }
  let frames = 0;
  for (const chunk of s.memory.frames.values()) frames += chunk.size;
  out.push(`physical memory: ${frames} frame(s) written; allocator at ${hex(BigInt(s.memory.nextPfn) << 12n)}`);
  return out;
}

export const stateCommand: Command = {
  usage: "state <trace> [--at N] [--path a.b.c] [--profile P] [--json [--memory]]",
  summary: "the whole state after event N (default: the last), or the part a path names",
  flags: { at: { value: true }, path: { value: true }, profile: { value: true }, memory: {} },
  args: { min: 1, max: 1, names: ["<trace>"] },
  run: (a, out) =>
    Effect.gen(function* () {
      const at = yield* intFlag("state", "at", a.flags.at);
      const path = a.flags.path;
      if (path === true) return yield* Effect.fail(new BadInput({ file: "iorr state", field: "--path", message: "needs a value, such as processes.100" }));
      if (a.flags.memory === true && !out.json)
        return yield* Effect.fail(new BadInput({ file: "iorr state", field: "--memory", message: "goes with --json (the text shows no memory contents)" }));
      return yield* usingTrace(a.positional[0]!, out, (src) =>
        Effect.gen(function* () {
          const profile = yield* profileFor("state", a.flags.profile, src);
          const seq = yield* checkEventFlag("state", "at", at ?? src.count, src.file, src.count);
          const state = yield* withTrace(src, profile, new Timeline(src).stateAt(seq)).pipe(
            Effect.catchTag("ReplayFault", (f: ReplayFault) => Effect.fail(stopped(src.file, f, { seq, events: src.count, state_hash: null }))),
          );
          const hash = hashOf(state);
          if (path !== undefined) return yield* statePath(state, path, { seq, events: src.count, state_hash: hash }, a.flags.memory === true, out);
          out.print(`state after event ${seq} of ${src.count} (${src.file}, profile ${profile.spec.join(",")})`);
          for (const line of describeState(state)) out.print(line);
          out.print(`state hash: ${hash}`);
          return { status: EXIT.ok, json: { seq, events: src.count, state_hash: hash, state: stateJson(state, a.flags.memory === true) } };
        }),
      );
    }),
};

/** `state --path`: the part of the state a path names, or bad input saying where the path left the state. */
function statePath(state: State, path: string, figures: { seq: number; events: number; state_hash: string }, withMemory: boolean, out: Output) {
  const r = selectStatePath(state, path);
  if (!r.found) return Effect.fail(new BadInput({ file: "iorr state", field: "--path", message: describeMiss(r) }));
  out.print(`${path === "" ? "the state" : path} after event ${figures.seq} of ${figures.events}:`);
  for (const line of renderValue(r.value, "  ")) out.print(line);
  const value = path === "" ? stateJson(state, withMemory) : path === "memory" ? memoryJson(state, withMemory) : valueJson(r.value, withMemory);
  return Effect.succeed({ status: EXIT.ok, json: { seq: figures.seq, events: figures.events, path, state_hash: figures.state_hash, value } });
}

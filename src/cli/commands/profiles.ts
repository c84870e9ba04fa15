// iorr profiles [--profile P] [--json]: the presets and the switches they are
// made of, each with its component; with --profile, what P resolves to: per
// component the preset in force (named, or the component's default) and the
// switches that are on.

import { Effect } from "effect";
import { COMPONENT_SUMMARY, COMPONENTS } from "../../profiles/components.ts";
import { DEFAULT_PROFILE, PRESETS } from "../../profiles/presets.ts";
import { expand, type ComponentInForce, type Profile } from "../../profiles/profile.ts";
import { SWITCHES } from "../../profiles/switches.ts";
import { EXIT, profileFor, type Command } from "../common.ts";
import type { Output } from "../report.ts";

export const profilesCommand: Command = {
  usage: "profiles [--profile P] [--json]",
  summary: "presets and behaviour switches; with --profile, what P resolves to",
  flags: { profile: { value: true } },
  args: { min: 0, max: 0, names: [] },
  run: (a, out) =>
    Effect.gen(function* () {
      if (a.flags.profile !== undefined) {
        const profile = yield* profileFor("profiles", a.flags.profile, undefined);
        printProfile(profile, out);
        return { status: EXIT.ok, json: profileJson(profile) };
      }
      const presets = [...PRESETS.values()].map((p) => ({
        name: p.name,
        component: p.component,
        summary: p.summary,
        items: p.items,
        switches: expand(p.name),
      }));
      out.print(`default profile: ${DEFAULT_PROFILE.join(",")}`);
      out.print("");
      out.print("presets (ordered lists of switches; a preset may start with another):");
      for (const p of presets) {
        out.print(`  ${p.name.padEnd(26)} ${p.component.padEnd(16)} ${p.summary}`);
        out.print(`  ${"".padEnd(26)} ${"".padEnd(16)} = ${p.items.join(" + ")}`);
      }
      out.print("");
      out.print("switches (one kernel or QEMU change each):");
      for (const s of SWITCHES.values())
        out.print(`  ${s.name.padEnd(30)} ${s.component.padEnd(16)} ${s.summary}  [${s.source}]${s.pending ? `  (no effect until ${s.pending})` : ""}`);
      out.print("");
      out.print("--profile takes a comma-separated list; -name removes a switch or a preset's switches.");
      out.print("A component the list names no preset of runs at its default preset (see iorr profiles --profile P).");
      return { status: EXIT.ok, json: { default: DEFAULT_PROFILE, components: COMPONENTS, presets, switches: [...SWITCHES.values()] } };
    }),
};

function componentJson(c: ComponentInForce) {
  return { component: c.component, presets: c.presets, default: c.isDefault, applied: c.applied, switches: c.switches, same_as: c.sameAs };
}

function profileJson(p: Profile) {
  return { spec: p.spec, key: p.key, components: p.components.map(componentJson), switches: p.switches };
}

function printProfile(p: Profile, out: Output): void {
  out.print(`profile ${p.spec.join(",")}`);
  for (const c of p.components) {
    const head = c.applied.map((item, i) => (c.isDefault && i === 0 ? `${item} (default)` : item)).join(", ");
    const same = c.sameAs !== null && (c.applied.length > 1 || c.applied[0] !== c.sameAs) ? ` (= ${c.sameAs})` : "";
    out.print(`  ${c.component.padEnd(18)} ${head}${same}   [${COMPONENT_SUMMARY[c.component]}]`);
    out.print(`  ${"".padEnd(18)} = ${c.switches.length > 0 ? c.switches.join(" + ") : "(no switches)"}`);
  }
}

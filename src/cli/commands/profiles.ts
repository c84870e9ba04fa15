// iorr profiles [--profile P] [--json]: the presets and the switches they are
// made of, each with its component; with --profile, what P resolves to: per
// component the preset in force (named, or the component's default) and the
// switches that are on.

import { Effect } from "effect";
import { COMPONENT_SUMMARY, COMPONENTS } from "../../profiles/components.ts";
import { DEFAULT_PROFILE, PRESETS } from "../../profiles/presets.ts";
import { expand, type ComponentInForce, type Profile } from "../../profiles/profile.ts";
import { SWITCHES } from "../../profiles/switches.ts";
import { parseArgs } from "../args.ts";
import { EXIT, print, printJson, profileFor, type Command } from "../common.ts";

export const profilesCommand: Command = (argv) =>
  Effect.gen(function* () {
    const a = yield* parseArgs("profiles", argv, { json: {}, profile: { value: true } }, { min: 0, max: 0, names: "" });
    if (a.flags.profile !== undefined) {
      const profile = yield* profileFor("profiles", a.flags.profile, undefined);
      if (a.flags.json === true) printJson(profileJson(profile));
      else printProfile(profile);
      return EXIT.ok;
    }
    const presets = [...PRESETS.values()].map((p) => ({ name: p.name, component: p.component, summary: p.summary, items: p.items, switches: expand(p.name) }));
    if (a.flags.json === true) {
      printJson({ default: DEFAULT_PROFILE, components: COMPONENTS, presets, switches: [...SWITCHES.values()] });
      return EXIT.ok;
    }
    print(`default profile: ${DEFAULT_PROFILE.join(",")}`);
    print("");
    print("presets (ordered lists of switches; a preset may start with another):");
    for (const p of presets) {
      print(`  ${p.name.padEnd(26)} ${p.component.padEnd(16)} ${p.summary}`);
      print(`  ${"".padEnd(26)} ${"".padEnd(16)} = ${p.items.join(" + ")}`);
    }
    print("");
    print("switches (one kernel or QEMU change each):");
    for (const s of SWITCHES.values())
      print(`  ${s.name.padEnd(30)} ${s.component.padEnd(16)} ${s.summary}  [${s.source}]${s.pending ? `  (no effect until ${s.pending})` : ""}`);
    print("");
    print("--profile takes a comma-separated list; -name removes a switch or a preset's switches.");
    print("A component the list names no preset of runs at its default preset (see iorr profiles --profile P).");
    return EXIT.ok;
  });

function componentJson(c: ComponentInForce) {
  return { component: c.component, presets: c.presets, default: c.isDefault, applied: c.applied, switches: c.switches, same_as: c.sameAs };
}

function profileJson(p: Profile) {
  return { spec: p.spec, key: p.key, components: p.components.map(componentJson), switches: p.switches };
}

function printProfile(p: Profile): void {
  print(`profile ${p.spec.join(",")}`);
  for (const c of p.components) {
    const head = c.applied.map((item, i) => (c.isDefault && i === 0 ? `${item} (default)` : item)).join(", ");
    const same = c.sameAs !== null && (c.applied.length > 1 || c.applied[0] !== c.sameAs) ? ` (= ${c.sameAs})` : "";
    print(`  ${c.component.padEnd(18)} ${head}${same}   [${COMPONENT_SUMMARY[c.component]}]`);
    print(`  ${"".padEnd(18)} = ${c.switches.length > 0 ? c.switches.join(" + ") : "(no switches)"}`);
  }
}

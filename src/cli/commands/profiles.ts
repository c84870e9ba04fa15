// iorr profiles [--json]: the presets and the switches they are made of.

import { Effect } from "effect";
import { DEFAULT_PROFILE, PRESETS } from "../../profiles/presets.ts";
import { expand } from "../../profiles/profile.ts";
import { SWITCHES } from "../../profiles/switches.ts";
import { parseArgs } from "../args.ts";
import { EXIT, print, printJson, type Command } from "../common.ts";

export const profilesCommand: Command = (argv) =>
  Effect.sync(() => {
    const a = parseArgs("profiles", argv, { json: {} }, { min: 0, max: 0, names: "" });
    const presets = [...PRESETS.values()].map((p) => ({ name: p.name, summary: p.summary, items: p.items, switches: expand(p.name) }));
    if (a.flags.json === true) {
      printJson({ default: DEFAULT_PROFILE, presets, switches: [...SWITCHES.values()] });
      return EXIT.ok;
    }
    print(`default profile: ${DEFAULT_PROFILE.join(",")}`);
    print("");
    print("presets (ordered lists of switches; a preset may start with another):");
    for (const p of presets) {
      print(`  ${p.name.padEnd(26)} ${p.summary}`);
      print(`  ${"".padEnd(26)} = ${p.items.join(" + ")}`);
    }
    print("");
    print("switches (one kernel or QEMU change each):");
    for (const s of SWITCHES.values()) print(`  ${s.name.padEnd(30)} ${s.summary}  [${s.source}]${s.pending ? `  (no effect until ${s.pending})` : ""}`);
    print("");
    print("--profile takes a comma-separated list; -name removes a switch or a preset's switches.");
    return EXIT.ok;
  });

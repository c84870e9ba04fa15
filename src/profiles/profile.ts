// A resolved profile: the ordered switches a preset list expands to, and the
// set reducers query. Resolution is pure data; bad names are reported to the
// caller, which decides whether that is bad input.

import { DEFAULT_PROFILE, PRESETS } from "./presets.ts";
import { SWITCHES } from "./switches.ts";

export interface Profile {
  /** What the user asked for, as given (preset and switch names, `-name` removes). */
  readonly spec: readonly string[];
  /** The switches in the order they were applied. */
  readonly switches: readonly string[];
  /** A short stable key: checkpoints are only valid for the profile they were made under. */
  readonly key: string;
  on(name: string): boolean;
}

export class ProfileError extends Error {
  constructor(readonly item: string, message: string) {
    super(message);
  }
}

/** Expand a preset or switch name into switches, in order. */
export function expand(item: string, seen: Set<string> = new Set()): string[] {
  const preset = PRESETS.get(item);
  if (preset) {
    if (seen.has(item)) throw new ProfileError(item, `preset ${item} includes itself`);
    seen.add(item);
    return preset.items.flatMap((i) => expand(i, seen));
  }
  if (SWITCHES.has(item)) return [item];
  throw new ProfileError(item, `unknown preset or switch "${item}" (see \`iorr profiles\`)`);
}

export function makeProfile(spec: readonly string[], switches: readonly string[]): Profile {
  const set = new Set(switches);
  const ordered = [...set];
  return {
    spec,
    switches: ordered,
    key: [...set].sort().join(","),
    on: (name: string) => set.has(name),
  };
}

/** Resolve `["linux-mainline", "qemu-flts-v5", "-get-pa-clamp-area"]` into a profile. */
export function resolveProfile(spec: string | readonly string[] | undefined): Profile {
  const items = spec === undefined ? DEFAULT_PROFILE : typeof spec === "string" ? splitSpec(spec) : spec;
  const out: string[] = [];
  for (const item of items) {
    if (item.startsWith("-")) {
      const removed = new Set(expand(item.slice(1)));
      for (let i = out.length - 1; i >= 0; i--) if (removed.has(out[i]!)) out.splice(i, 1);
      continue;
    }
    for (const s of expand(item)) if (!out.includes(s)) out.push(s);
  }
  return makeProfile(items, out);
}

/** `linux-mainline,qemu-flts-v5` on the command line. */
export function splitSpec(s: string): string[] {
  return s
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
}

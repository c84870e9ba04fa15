// A resolved profile: the ordered switches a spec expands to, per component,
// and the set reducers query. Resolution is pure data; bad names are reported
// to the caller, which decides whether that is bad input.
//
// A spec is a list of preset and switch names and `-name` removals. Each
// component the spec names no preset of runs at its default preset: those
// defaults go in first, then the spec's items apply in order, so a removal
// takes out what is in force at that point, defaults included.

import { COMPONENTS, type Component } from "./components.ts";
import { DEFAULT_PRESET, DEFAULT_PROFILE, PRESETS } from "./presets.ts";
import { SWITCHES } from "./switches.ts";

/** One component of a resolved profile. */
export interface ComponentInForce {
  readonly component: Component;
  /** The presets the spec names for this component, in order; else [its default preset]. */
  readonly presets: readonly string[];
  /** The spec names no preset of this component: it runs at its default preset. */
  readonly isDefault: boolean;
  /** The items that made this component, in the order applied: its default preset first if the spec names none, then the spec's items of it. */
  readonly applied: readonly string[];
  /** The switches of this component in force, in the order they were applied. */
  readonly switches: readonly string[];
  /** The first preset whose switches are exactly these, if any. */
  readonly sameAs: string | null;
}

export interface Profile {
  /** What the user asked for, as given (preset and switch names, `-name` removes). */
  readonly spec: readonly string[];
  /** The switches in the order they were applied. */
  readonly switches: readonly string[];
  /** Each component: the preset in force and its switches, in COMPONENTS order. */
  readonly components: readonly ComponentInForce[];
  /** A short stable key, the set of switches in force: checkpoints are only valid for the profile they were made under. */
  readonly key: string;
  on(name: string): boolean;
}

export class ProfileError extends Error {
  constructor(
    readonly item: string,
    message: string,
  ) {
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

/** The component a preset or switch name (or a `-name` removal) belongs to. */
export function componentOf(item: string): Component {
  const name = item.startsWith("-") ? item.slice(1) : item;
  const c = PRESETS.get(name)?.component ?? SWITCHES.get(name)?.component;
  if (c === undefined) throw new ProfileError(name, `unknown preset or switch "${name}" (see \`iorr profiles\`)`);
  return c;
}

/** The first preset of a component whose switches are exactly `switches` (as a set). */
function presetMatching(component: Component, switches: readonly string[]): string | null {
  const want = new Set(switches);
  for (const p of PRESETS.values()) {
    if (p.component !== component) continue;
    const has = new Set(expand(p.name));
    if (has.size === want.size && [...has].every((s) => want.has(s))) return p.name;
  }
  return null;
}

function makeProfile(spec: readonly string[], switches: readonly string[]): Profile {
  const set = new Set(switches);
  const ordered = [...set];
  const components = COMPONENTS.map((component): ComponentInForce => {
    const mine = spec.filter((i) => componentOf(i) === component);
    const presets = mine.filter((i) => PRESETS.has(i));
    const own = ordered.filter((s) => SWITCHES.get(s)!.component === component);
    const isDefault = presets.length === 0;
    return {
      component,
      presets: isDefault ? [DEFAULT_PRESET.get(component)!] : presets,
      isDefault,
      applied: isDefault ? [DEFAULT_PRESET.get(component)!, ...mine] : mine,
      switches: own,
      sameAs: presetMatching(component, own),
    };
  });
  return {
    spec,
    switches: ordered,
    components,
    key: [...set].sort().join(","),
    on: (name: string) => set.has(name),
  };
}

function specItems(spec: string | readonly string[] | undefined): readonly string[] {
  return spec === undefined ? DEFAULT_PROFILE : typeof spec === "string" ? splitSpec(spec) : spec;
}

/** Resolve `["linux-mainline", "qemu-flts-v5", "-get-pa-clamp-area"]` into a profile. */
export function resolveProfile(spec: string | readonly string[] | undefined): Profile {
  const items = specItems(spec);
  const named = new Set(items.filter((i) => !i.startsWith("-") && PRESETS.has(i)).map(componentOf));
  const defaults = COMPONENTS.filter((c) => !named.has(c)).map((c) => DEFAULT_PRESET.get(c)!);
  const out: string[] = [];
  for (const item of [...defaults, ...items]) {
    if (item.startsWith("-")) {
      const removed = new Set(expand(item.slice(1)));
      for (let i = out.length - 1; i >= 0; i--) if (removed.has(out[i]!)) out.splice(i, 1);
      continue;
    }
    for (const s of expand(item)) if (!out.includes(s)) out.push(s);
  }
  return makeProfile(items, out);
}

/**
 * Bisect over a preset: `spec` with the preset's component running the first
 * `count` switches of the preset, and every other component as `spec` has it.
 * The result's spec says exactly that (the component's default preset removed,
 * then the switches), so resolving it again gives the same profile.
 */
export function resolvePresetPrefix(spec: string | readonly string[] | undefined, preset: string, count: number): Profile {
  const def = PRESETS.get(preset);
  if (!def) throw new ProfileError(preset, `unknown preset "${preset}" (see \`iorr profiles\`)`);
  const all = expand(preset);
  if (!Number.isInteger(count) || count < 0 || count > all.length)
    throw new ProfileError(preset, `preset ${preset} has ${all.length} switches: ${count} is not in 0..${all.length}`);
  const others = specItems(spec).filter((i) => componentOf(i) !== def.component);
  return resolveProfile([...others, `-${DEFAULT_PRESET.get(def.component)!}`, ...all.slice(0, count)]);
}

/** `linux-mainline,qemu-flts-v5` on the command line. */
export function splitSpec(s: string): string[] {
  return s
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
}

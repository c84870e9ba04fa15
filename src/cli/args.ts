// Command-line parsing: each command declares its flags; anything else is bad
// input (exit 2) naming the argument.

import { Either } from "effect";
import { BadInput } from "../model/framework.ts";

export interface FlagSpec {
  /** Takes a value (`--until 10`, `--until=10`). */
  value?: boolean;
  short?: string;
}

export interface Parsed {
  positional: string[];
  flags: Record<string, string | true>;
}

export function parseArgs(
  command: string,
  argv: readonly string[],
  spec: Readonly<Record<string, FlagSpec>>,
  positional: { min: number; max: number; names: string },
): Either.Either<Parsed, BadInput> {
  const out: Parsed = { positional: [], flags: {} };
  const bad = (message: string) =>
    Either.left(new BadInput({ file: `iorr ${command}`, message: `${message} (usage: iorr ${command} ${positional.names}; see iorr help)` }));
  const byShort = new Map(Object.entries(spec).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      out.positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--") || (a.startsWith("-") && a.length > 1 && !/^-[0-9]/.test(a))) {
      let name: string;
      let inline: string | undefined;
      if (a.startsWith("--")) {
        const eq = a.indexOf("=");
        name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
        inline = eq >= 0 ? a.slice(eq + 1) : undefined;
      } else {
        const long = byShort.get(a.slice(1));
        if (!long) return bad(`unknown option ${a}`);
        name = long;
      }
      const s = spec[name];
      if (!s) return bad(`unknown option --${name}`);
      if (s.value) {
        const v = inline ?? argv[++i];
        if (v === undefined) return bad(`option --${name} needs a value`);
        out.flags[name] = v;
      } else {
        if (inline !== undefined) return bad(`option --${name} takes no value`);
        out.flags[name] = true;
      }
      continue;
    }
    out.positional.push(a);
  }
  if (out.positional.length < positional.min) return bad(`missing ${positional.names.split(" ")[out.positional.length] ?? "argument"}`);
  if (out.positional.length > positional.max) return bad(`unexpected argument "${out.positional[positional.max]}"`);
  return Either.right(out);
}

/** A non-negative integer flag value. */
export function intFlag(command: string, name: string, v: string | true | undefined): Either.Either<number | undefined, BadInput> {
  if (v === undefined) return Either.right(undefined);
  if (v === true || !/^[0-9]+$/.test(v))
    return Either.left(new BadInput({ file: `iorr ${command}`, field: `--${name}`, message: `expected a non-negative integer, got "${v === true ? "" : v}"` }));
  return Either.right(Number(v));
}

// Command-line parsing: each command declares its flags; anything else is bad
// input (exit 2) naming the argument, with the nearest flag when it looks
// misspelt and the command's usage.

import { Either } from "effect";
import { BadInput } from "../model/framework.ts";
import { nearest } from "./suggest.ts";

export interface FlagSpec {
  /** Takes a value (`--until 10`, `--until=10`). */
  value?: boolean;
  short?: string;
}

export interface Parsed {
  positional: string[];
  flags: Record<string, string | true>;
  /** `--` was given: the positional arguments from there on are a command line. */
  dashdash?: true;
}

/** A command's arguments: `usage` is its line in iorr help (after "iorr "), `args` names its positional arguments. */
export interface ArgSpec {
  usage: string;
  flags: Readonly<Record<string, FlagSpec>>;
  args: { min: number; max: number; names: readonly string[] };
}

export function parseArgs(command: string, argv: readonly string[], spec: ArgSpec): Either.Either<Parsed, BadInput> {
  const out: Parsed = { positional: [], flags: {} };
  const bad = (message: string, field?: string) =>
    Either.left(new BadInput({ file: `iorr ${command}`, ...(field ? { field } : {}), message: `${message} (usage: iorr ${spec.usage})` }));
  const byShort = new Map(Object.entries(spec.flags).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      out.dashdash = true;
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
      const s = spec.flags[name];
      if (!s) {
        const near = nearest(name, Object.keys(spec.flags));
        return bad(`unknown option --${name}${near ? `; did you mean "--${near}"?` : ""}`);
      }
      if (s.value) {
        const v = inline ?? argv[++i];
        if (v === undefined) return bad("needs a value", `--${name}`);
        out.flags[name] = v;
      } else {
        if (inline !== undefined) return bad("takes no value", `--${name}`);
        out.flags[name] = true;
      }
      continue;
    }
    out.positional.push(a);
  }
  if (out.positional.length < spec.args.min) return bad(`missing ${spec.args.names[out.positional.length] ?? "argument"}`);
  if (out.positional.length > spec.args.max) return bad(`unexpected argument "${out.positional[spec.args.max]}"`);
  return Either.right(out);
}

/** A non-negative integer flag value. */
export function intFlag(command: string, name: string, v: string | true | undefined): Either.Either<number | undefined, BadInput> {
  if (v === undefined) return Either.right(undefined);
  if (v === true || !/^[0-9]+$/.test(v))
    return Either.left(new BadInput({ file: `iorr ${command}`, field: `--${name}`, message: `expected a non-negative integer, got "${v === true ? "" : v}"` }));
  return Either.right(Number(v));
}

/** An event number given by `--name` must be one of the trace's (0: before the first); past the end is bad input. */
export function checkEventFlag(command: string, name: string, seq: number, file: string, count: number): Either.Either<number, BadInput> {
  return seq <= count
    ? Either.right(seq)
    : Either.left(new BadInput({ file: `iorr ${command}`, field: `--${name}`, message: `event ${seq} is past the end of ${file} (${count} events)` }));
}

// What the commands share: opening a trace with its profile, running an
// Effect program with the trace and profile services, exit statuses.

import { Effect, Either, Layer } from "effect";
import { BadInput, ProfileService } from "../model/framework.ts";
import { ProfileError, resolveProfile, splitSpec, type Profile } from "../profiles/profile.ts";
import type { TraceEvent } from "../model/events.ts";
import { openSource, storeCall, Trace, type TraceSource } from "../replay/source.ts";

export const EXIT = { ok: 0, divergence: 1, badInput: 2, fault: 3 } as const;

/** A command: an Effect that ends in an exit status, failing only with BadInput. */
export type Command = (argv: readonly string[]) => Effect.Effect<number, BadInput>;

/** --profile on the command line wins over the trace header, which wins over the default. */
export function profileFor(
  command: string,
  flag: string | true | undefined,
  header: { profile?: string | string[] } | undefined,
): Either.Either<Profile, BadInput> {
  try {
    if (flag !== undefined) {
      if (flag === true) throw new ProfileError("", "needs a value");
      return Either.right(resolveProfile(splitSpec(flag)));
    }
    return Either.right(resolveProfile(header?.profile === undefined ? undefined : typeof header.profile === "string" ? [header.profile] : header.profile));
  } catch (e) {
    if (e instanceof ProfileError)
      return Either.left(
        new BadInput({
          file: flag !== undefined ? `iorr ${command}` : "trace header",
          field: flag !== undefined ? "--profile" : "profile",
          message: e.message,
        }),
      );
    throw e;
  }
}

/** Open a trace (JSONL or database) for the length of `use`, closing it however `use` ends. */
export function usingTrace<A, E>(file: string, use: (src: TraceSource) => Effect.Effect<A, E>): Effect.Effect<A, E | BadInput> {
  return Effect.acquireUseRelease(openSource(file), use, (src) => Effect.sync(() => src.db?.close()));
}

/** Provide a trace and a profile to a program. */
export function withTrace<A, E>(src: TraceSource, profile: Profile, program: Effect.Effect<A, E, Trace | ProfileService>): Effect.Effect<A, E> {
  return program.pipe(Effect.provide(Layer.merge(Layer.succeed(Trace, src), Layer.succeed(ProfileService, profile))));
}

/** Print one JSON document on stdout. */
export function printJson(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v)}\n`);
}

export function print(line = ""): void {
  process.stdout.write(`${line}\n`);
}

/** Every event of a trace, reading (and so verifying) a database as it goes. */
export function readAll(src: TraceSource): Effect.Effect<TraceEvent[], BadInput> {
  return storeCall(() => [...src.batches(1, src.count, 10_000)].flat());
}

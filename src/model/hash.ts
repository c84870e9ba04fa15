// A stable hash of a state: the same state gives the same hash on every run and
// machine. The state is walked in a canonical order (object keys sorted, each
// value tagged with its type) into sha256; it is computed once per query, not
// per event, so a cryptographic hash costs nothing that matters.

import { createHash, type Hash } from "node:crypto";

/**
 * The state-data protocol: a class instance kept in states (not drafted by
 * immer, so copy-on-write by its owner: the IOTLB, src/pagewalk/iotlb.ts)
 * stands for its content through toStateData(), plain data that depends on
 * the content only (not on capacity or insertion history). The state hash,
 * checkpoints (src/replay/engine.ts, where its class rebuilds it from that
 * data) and `iorr state --json` (outcome.ts toJsonValue) all see that data.
 */
export interface StateData {
  toStateData(): unknown;
}
export const isStateData = (v: object): v is StateData => typeof (v as Partial<StateData>).toStateData === "function";

function feed(h: Hash, v: unknown): void {
  if (v === undefined) return;
  if (v === null) return void h.update("n;");
  switch (typeof v) {
    case "boolean":
      h.update(v ? "t;" : "f;");
      return;
    case "number":
      h.update(`d${v};`);
      return;
    case "bigint":
      h.update(`b${v.toString(16)};`);
      return;
    case "string":
      h.update(`s${v.length}:${v};`);
      return;
  }
  if (v instanceof Uint8Array) {
    h.update(`x${v.length}:`);
    h.update(v);
    h.update(";");
    return;
  }
  if (v instanceof Map) {
    const keys = [...v.keys()].sort((a, b) =>
      typeof a === "number" && typeof b === "number" ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0,
    );
    h.update(`m${keys.length}{`);
    for (const k of keys) {
      feed(h, k);
      h.update("=");
      feed(h, v.get(k));
    }
    h.update("}");
    return;
  }
  if (isStateData(v)) {
    h.update("c");
    feed(h, v.toStateData());
    return;
  }
  if (Array.isArray(v)) {
    h.update(`a${v.length}[`);
    for (const x of v) feed(h, x);
    h.update("]");
    return;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  h.update(`o${keys.length}{`);
  for (const k of keys) {
    h.update(`${k.length}:${k}=`);
    feed(h, o[k]);
  }
  h.update("}");
}

export function stateHash(state: unknown): string {
  const h = createHash("sha256");
  feed(h, state);
  return h.digest("hex");
}

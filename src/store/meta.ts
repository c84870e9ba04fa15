// The meta table's checksums (migrations/0002_integrity.sql): each row carries
// hash64(key, 0, value), so a changed header, structure table or head is refused
// naming what it is, before anything is decoded with it.

import { keyedHash64, sameHash } from "./hash.ts";

/** What each meta key the store keeps holds, in the user's terms (error messages). */
const WHAT: Readonly<Record<string, string>> = {
  format: "the format marker",
  version: "the trace format version",
  header: "the trace header (profile, title, ...)",
  count: "the event count",
  head: "the hash of the last event",
  msgpack_structures: "the msgpack shared-structure table the events are encoded with",
  incomplete: "the unfinished-import marker",
  checkpoint_profile: "the profile of the stored outcomes and checkpoints",
};

export function metaWhat(key: string): string {
  return WHAT[key] ?? `metadata '${key}'`;
}

export function metaSum(key: string, value: Uint8Array): Uint8Array {
  return keyedHash64(key, value);
}

/** Does the row's stored sum match its key and value? A missing sum never does. */
export function metaSumHolds(key: string, value: unknown, sum: unknown): boolean {
  return value instanceof Uint8Array && sum instanceof Uint8Array && sameHash(metaSum(key, value), sum);
}

/** The message for a row whose sum does not hold. */
export function corruptMeta(key: string): string {
  return `${metaWhat(key)} (meta '${key}') is corrupt: its checksum does not match (the file was modified or damaged)`;
}

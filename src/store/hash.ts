// The event log's 64-bit hash chain. It is part of the file format: changing anything
// here makes every existing trace fail verification, so it needs a new migration.
//
// Construction (all words are unsigned 32-bit, bytes read little-endian):
//
//   H_0 = 8 zero bytes (genesis)
//   H_n = chain(H_{n-1}, n, op_n, payload_n, expect_n, outcome_n)
//
// chain() feeds this sequence of words into two lanes:
//   1. prev bytes 0..3, prev bytes 4..7
//   2. seq mod 2^32, floor(seq / 2^32)
//   3. op: its length in UTF-16 code units, then the code units two per word
//      (first unit in the low half), an odd last unit alone in a word
//   4. payload: its byte length, then its bytes four per word, the last 1..3 bytes
//      zero-padded into one word
//   5. expect: 0xffffffff when absent, else its byte length and bytes as in 4
//   6. outcome (the simulated outcome stored with the event): as expect in 5
// Schema 1 files chained steps 1-5 only; the upgrade to schema 2 re-chains them
// (src/store/upgrade.ts).
//
// Lane A is murmur3_32's block step: k *= 0xcc9e2d51; k = rotl(k, 15); k *= 0x1b873593;
// a ^= k; a = rotl(a, 13); a = a * 5 + 0xe6546b64, seeded with 0x9747b28c.
// Lane B uses different constants so that a collision in one lane says nothing about the
// other: k *= 0x85ebca77; k = rotl(k, 13); k *= 0xc2b2ae3d; b ^= k; b = rotl(b, 17);
// b = b * 5 + 0x561ccd1b, seeded with 0x27d4eb2f.
// Finally each lane is xored with the number of words and put through murmur3's fmix32;
// the result is lane A (little-endian) in bytes 0..3, lane B in bytes 4..7.
//
// hash64(bytes) (checkpoint checksums) is the same two lanes over step 4 alone.
//
// This detects corruption and edits made without recomputing the chain; it is not a
// defence against someone who rewrites the chain (no unkeyed hash would be).

const SEED_A = 0x9747b28c;
const SEED_B = 0x27d4eb2f;
const ABSENT = 0xffffffff;

// Lane steps are pure functions of (lane, word) so V8 inlines them and the lanes stay in
// registers; hashing allocates nothing but the result.
function laneA(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function laneB(h: number, k: number): number {
  k = Math.imul(k, 0x85ebca77);
  k = Math.imul((k << 13) | (k >>> 19), 0xc2b2ae3d);
  h ^= k;
  h = (h << 17) | (h >>> 15);
  return (Math.imul(h, 5) + 0x561ccd1b) | 0;
}

// Both lanes, carried across mixBytes() calls.
const lanes = new Int32Array(2);

/** Step 4 for bytes[off, off + n); returns the number of words mixed. */
function mixBytes(bytes: Uint8Array, off: number, n: number): number {
  let a = laneA(lanes[0]!, n);
  let b = laneB(lanes[1]!, n);
  const whole = off + (n & ~3);
  const end = off + n;
  let i = off;
  for (; i < whole; i += 4) {
    const k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    a = laneA(a, k);
    b = laneB(b, k);
  }
  if (i < end) {
    let k = bytes[i]!;
    if (i + 1 < end) k |= bytes[i + 1]! << 8;
    if (i + 2 < end) k |= bytes[i + 2]! << 16;
    a = laneA(a, k);
    b = laneB(b, k);
  }
  lanes[0] = a;
  lanes[1] = b;
  return 1 + ((n + 3) >> 2);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

function finish(out: Uint8Array, words: number): void {
  const fa = fmix32(lanes[0]! ^ words);
  const fb = fmix32(lanes[1]! ^ words);
  out[0] = fa;
  out[1] = fa >>> 8;
  out[2] = fa >>> 16;
  out[3] = fa >>> 24;
  out[4] = fb;
  out[5] = fb >>> 8;
  out[6] = fb >>> 16;
  out[7] = fb >>> 24;
}

/** The genesis value: the "previous hash" of event 1. */
export const GENESIS: Uint8Array = new Uint8Array(8);

/** Writes H_seq into `out` (which may be `prev` itself). */
export function chainInto(
  out: Uint8Array,
  prev: Uint8Array,
  seq: number,
  op: string,
  payload: Uint8Array,
  expect: Uint8Array | null,
  outcome: Uint8Array | null,
): void {
  chainSlices(out, prev, seq, op, payload, 0, payload.length, expect ?? payload, 0, expect?.length ?? -1, outcome ?? payload, 0, outcome?.length ?? -1);
}

/**
 * chainInto() over byte ranges, for callers holding many rows in one buffer: the payload
 * is p[pOff, pOff + pLen), the expect e[eOff, eOff + eLen), the outcome o[oOff, oOff + oLen),
 * each of the last two absent when its length is < 0.
 */
export function chainSlices(
  out: Uint8Array,
  prev: Uint8Array,
  seq: number,
  op: string,
  p: Uint8Array,
  pOff: number,
  pLen: number,
  e: Uint8Array,
  eOff: number,
  eLen: number,
  o: Uint8Array,
  oOff: number,
  oLen: number,
): void {
  const p0 = prev[0]! | (prev[1]! << 8) | (prev[2]! << 16) | (prev[3]! << 24);
  const p1 = prev[4]! | (prev[5]! << 8) | (prev[6]! << 16) | (prev[7]! << 24);
  const lo = seq >>> 0;
  const hi = Math.floor(seq / 0x100000000);
  const n = op.length;
  let a = laneA(laneA(laneA(laneA(laneA(SEED_A, p0), p1), lo), hi), n);
  let b = laneB(laneB(laneB(laneB(laneB(SEED_B, p0), p1), lo), hi), n);
  let words = 5 + ((n + 1) >> 1);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const k = op.charCodeAt(i) | (op.charCodeAt(i + 1) << 16);
    a = laneA(a, k);
    b = laneB(b, k);
  }
  if (i < n) {
    const k = op.charCodeAt(i);
    a = laneA(a, k);
    b = laneB(b, k);
  }
  lanes[0] = a;
  lanes[1] = b;
  words += mixBytes(p, pOff, pLen);
  words += mixOptional(e, eOff, eLen);
  words += mixOptional(o, oOff, oLen);
  finish(out, words);
}

/**
 * As an outcome length: step 6 left out, as schema 1 chained (used only to verify a
 * schema 1 file before upgrading it).
 */
export const SCHEMA1_NO_OUTCOME = -2;

/** Step 5 (and 6): an absent value (length -1) is one ABSENT word. */
function mixOptional(bytes: Uint8Array, off: number, n: number): number {
  if (n >= 0) return mixBytes(bytes, off, n);
  if (n === SCHEMA1_NO_OUTCOME) return 0;
  lanes[0] = laneA(lanes[0]!, ABSENT);
  lanes[1] = laneB(lanes[1]!, ABSENT);
  return 1;
}

export function chain(
  prev: Uint8Array,
  seq: number,
  op: string,
  payload: Uint8Array,
  expect: Uint8Array | null,
  outcome: Uint8Array | null = null,
): Uint8Array {
  const out = new Uint8Array(8);
  chainInto(out, prev, seq, op, payload, expect, outcome);
  return out;
}

/** hash64 of a key (UTF-8), one zero byte, then `value`: meta rows and checkpoints (key: the profile key). */
export function keyedHash64(key: string, value: Uint8Array): Uint8Array {
  const k = Buffer.from(key, "utf8");
  const bytes = new Uint8Array(k.length + 1 + value.length);
  bytes.set(k, 0);
  bytes.set(value, k.length + 1);
  return hash64(bytes);
}

/** 64-bit checksum of a byte string. */
export function hash64(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(8);
  lanes[0] = SEED_A;
  lanes[1] = SEED_B;
  finish(out, mixBytes(bytes, 0, bytes.length));
  return out;
}

export function sameHash(x: Uint8Array, y: Uint8Array): boolean {
  return y.length === 8 && sameHashAt(x, y, 0);
}

/** x (8 bytes) equals bytes[off, off + 8). */
export function sameHashAt(x: Uint8Array, bytes: Uint8Array, off: number): boolean {
  if (x.length !== 8 || off + 8 > bytes.length) return false;
  for (let i = 0; i < 8; i++) if (x[i] !== bytes[off + i]) return false;
  return true;
}

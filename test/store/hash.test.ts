// docs/architecture.md "Store": events carry a hash chained over the previous hash. The
// construction documented in src/store/hash.ts is part of the file format, so this test
// re-implements it word by word from that comment and checks the fast code against it.

import { describe, expect, it } from "vitest";
import { GENESIS, chain, chainSlices, hash64, sameHash } from "../../src/store/hash.ts";

function bytesWords(bytes: Uint8Array): number[] {
  const words = [bytes.length];
  for (let i = 0; i < bytes.length; i += 4) {
    words.push((bytes[i]! | ((bytes[i + 1] ?? 0) << 8) | ((bytes[i + 2] ?? 0) << 16) | ((bytes[i + 3] ?? 0) << 24)) >>> 0);
  }
  return words;
}

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function reference(words: number[]): Uint8Array {
  let a = 0x9747b28c;
  let b = 0x27d4eb2f;
  for (const w of words) {
    a = (Math.imul(rotl((a ^ Math.imul(rotl(Math.imul(w, 0xcc9e2d51), 15), 0x1b873593)) >>> 0, 13), 5) + 0xe6546b64) >>> 0;
    b = (Math.imul(rotl((b ^ Math.imul(rotl(Math.imul(w, 0x85ebca77), 13), 0xc2b2ae3d)) >>> 0, 17), 5) + 0x561ccd1b) >>> 0;
  }
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, fmix32(a ^ words.length), true);
  view.setUint32(4, fmix32(b ^ words.length), true);
  return out;
}

function referenceChain(prev: Uint8Array, seq: number, op: string, payload: Uint8Array, expect: Uint8Array | null, outcome: Uint8Array | null): Uint8Array {
  const pv = new DataView(prev.buffer, prev.byteOffset, 8);
  const words = [pv.getUint32(0, true), pv.getUint32(4, true), seq >>> 0, Math.floor(seq / 2 ** 32), op.length];
  for (let i = 0; i < op.length; i += 2) words.push((op.charCodeAt(i) | ((i + 1 < op.length ? op.charCodeAt(i + 1) : 0) << 16)) >>> 0);
  words.push(...bytesWords(payload));
  for (const v of [expect, outcome]) {
    if (v === null) words.push(0xffffffff);
    else words.push(...bytesWords(v));
  }
  return reference(words);
}

describe("hash chain (docs/architecture.md Store: hash chained over the previous hash)", () => {
  const payloads = [new Uint8Array(0), Uint8Array.of(1), Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9)];

  it("matches the construction documented in hash.ts", () => {
    let prev = GENESIS;
    let seq = 1;
    for (const op of ["open", "ioctl", "x", ""]) {
      for (const p of payloads) {
        for (const e of [null, ...payloads]) {
          for (const o of [null, ...payloads.slice(0, 3)]) {
            const got = chain(prev, seq, op, p, e, o);
            expect(got).toEqual(referenceChain(prev, seq, op, p, e, o));
            prev = got;
            seq += 0x1_0000_0001; // exercises the high seq word
          }
        }
      }
    }
    for (const p of payloads) expect(hash64(p)).toEqual(reference(bytesWords(p)));
  });

  it("separates fields: absent expect, empty expect, an outcome and moved bytes all differ", () => {
    const p = Uint8Array.of(1, 2, 3, 4);
    const base = chain(GENESIS, 1, "open", p, null);
    expect(sameHash(base, chain(GENESIS, 1, "open", p, new Uint8Array(0)))).toBe(false);
    expect(sameHash(base, chain(GENESIS, 2, "open", p, null))).toBe(false);
    expect(sameHash(base, chain(GENESIS, 1, "opem", p, null))).toBe(false);
    expect(sameHash(chain(GENESIS, 1, "op", Uint8Array.of(1, 2), Uint8Array.of(3)), chain(GENESIS, 1, "op", Uint8Array.of(1), Uint8Array.of(2, 3)))).toBe(
      false,
    );
    expect(sameHash(base, chain(base, 1, "open", p, null))).toBe(false);
    // The outcome is chained: a stored outcome cannot change unseen, nor move into expect.
    expect(sameHash(base, chain(GENESIS, 1, "open", p, null, new Uint8Array(0)))).toBe(false);
    expect(sameHash(chain(GENESIS, 1, "open", p, Uint8Array.of(3), null), chain(GENESIS, 1, "open", p, null, Uint8Array.of(3)))).toBe(false);
  });

  it("gives the same value over byte ranges of a shared buffer (how reads verify)", () => {
    const buf = Uint8Array.of(9, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    const out = new Uint8Array(8);
    chainSlices(out, GENESIS, 5, "open", buf, 1, 5, buf, 6, 3, buf, 9, 1);
    expect(out).toEqual(chain(GENESIS, 5, "open", buf.slice(1, 6), buf.slice(6, 9), buf.slice(9, 10)));
    chainSlices(out, GENESIS, 5, "open", buf, 2, 0, buf, 0, -1, buf, 0, -1);
    expect(out).toEqual(chain(GENESIS, 5, "open", new Uint8Array(0), null, null));
  });

  it("is deterministic and leaves its inputs alone", () => {
    const prev = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const p = Uint8Array.of(9, 9, 9);
    expect(chain(prev, 7, "close", p, null)).toEqual(chain(prev, 7, "close", p, null));
    expect(prev).toEqual(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    expect(GENESIS).toEqual(new Uint8Array(8));
  });
});

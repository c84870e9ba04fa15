// 64-bit arithmetic on 32-bit halves (docs/architecture.md "Page walk core": entries and IOVAs as two halves, no BigInt in a walk).
import { describe, expect, it } from "vitest";
import { field51to12, fitsBits, index9, offsetIn, trailingOnes40 } from "../../src/pagewalk/bits.ts";

const halves = (v: bigint): [number, number] => [Number(v >> 32n), Number(v & 0xffffffffn)];

describe("pagewalk bits", () => {
  it("index9 reads 9 bits at any shift, including across the 32-bit boundary and in the top 7 bits", () => {
    const v = 0xfedc_ba98_7654_3210n;
    for (const shift of [12, 21, 27, 30, 39, 48, 57]) expect(index9(...halves(v), shift)).toBe(Number((v >> BigInt(shift)) & 511n));
  });

  it("fitsBits compares against 2^n for every width", () => {
    expect(fitsBits(...halves((1n << 48n) - 1n), 48)).toBe(true);
    expect(fitsBits(...halves(1n << 48n), 48)).toBe(false);
    expect(fitsBits(...halves(0x8000_0000n), 31)).toBe(false);
    expect(fitsBits(...halves(0xffff_ffffn), 32)).toBe(true);
    expect(fitsBits(...halves(0xffff_ffff_ffff_ffffn), 64)).toBe(true);
  });

  it("offsetIn keeps the low bits up to 52", () => {
    const v = 0xfedc_ba98_7654_3210n;
    for (const lg2 of [11, 12, 21, 31, 32, 39, 51]) expect(BigInt(offsetIn(...halves(v), lg2))).toBe(v & ((1n << BigInt(lg2)) - 1n));
  });

  it("field51to12 and trailingOnes40 decode an AMDv1 NextLevel-7 size across the 20-bit split", () => {
    const e = 0x000f_ffff_ffff_f000n; // 40 one bits
    expect(field51to12(...halves(e))).toBe(2 ** 40 - 1);
    expect(trailingOnes40(2 ** 25 - 1)).toBe(25);
    expect(trailingOnes40(0b1011)).toBe(2);
    expect(trailingOnes40(0)).toBe(0);
  });
});

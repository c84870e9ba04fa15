// 64-bit arithmetic on two unsigned 32-bit halves, without BigInt and without
// allocating: table indexes, range checks, and the offset inside a page.

const TWO32 = 4294967296;

/** The 9-bit table index at bit `shift` of the 64-bit value hi:lo (bits past 63 read as zero). */
export function index9(hi: number, lo: number, shift: number): number {
  if (shift >= 32) return (hi >>> (shift - 32)) & 511;
  if (shift + 9 <= 32) return (lo >>> shift) & 511;
  return ((lo >>> shift) | (hi << (32 - shift))) & 511;
}

/** hi:lo < 2^bits. */
export function fitsBits(hi: number, lo: number, bits: number): boolean {
  if (bits >= 64) return true;
  if (bits >= 32) return bits === 32 ? hi === 0 : hi >>> (bits - 32) === 0;
  return hi === 0 && (bits === 0 ? lo === 0 : lo >>> bits === 0);
}

/** hi:lo mod 2^lg2 as a number (lg2 <= 52). */
export function offsetIn(hi: number, lo: number, lg2: number): number {
  if (lg2 >= 32) return (hi & ((1 << (lg2 - 32)) - 1)) * TWO32 + (lo >>> 0);
  return (lo & ((1 << lg2) - 1)) >>> 0; // lg2 = 31: (1 << 31) - 1 is 0x7fffffff, as wanted
}

/** Bits 51:12 of an entry as a number (the address field of every format here). */
export function field51to12(hi: number, lo: number): number {
  return (hi & 0xfffff) * 1048576 + (lo >>> 12);
}

/** The number of trailing one bits of a 40-bit field held as a number. */
export function trailingOnes40(f: number): number {
  const low = f % 1048576; // low 20 bits
  if (low !== 0xfffff) return ctz32(~low);
  return 20 + ctz32(~Math.floor(f / 1048576));
}

/** Count trailing zeros of a non-zero 32-bit value. */
function ctz32(v: number): number {
  return 31 - Math.clz32(v & -v);
}

export function pow2(n: number): number {
  return 2 ** n;
}

// Page tables as a guest builds them in its RAM, for the trace generators
// (tools/gen/vtd-matrix.ts, tools/fuzz/vtd_program.ts): x86 first-stage and
// VT-d second-stage tables share the shape (512 entries of 8 bytes a level,
// the next table's address in bits 51:12, PS at bit 7 for a superpage).

/** What a generator's guest offers: its written qwords, a writer, and a fresh zeroed table page. */
export interface TableMemory {
  read(gpa: bigint): bigint;
  write(gpa: bigint, ...u64: bigint[]): void;
  page(): bigint;
}

/**
 * Map iova to gpa with a 2^lg2 page in a `levels`-level table at `root`: missing
 * tables are allocated and linked with `tableBits`, the leaf gets `leafBits`
 * (plus PS above level 1). Returns the leaf entry's address.
 */
export function mapPage(m: TableMemory, root: bigint, levels: number, iova: bigint, gpa: bigint, lg2: number, leafBits: bigint, tableBits: bigint): bigint {
  const leafLevel = (lg2 - 12) / 9 + 1;
  let table = root;
  for (let level = levels; level > leafLevel; level--) {
    const at = table + ((iova >> BigInt(12 + 9 * (level - 1))) & 511n) * 8n;
    let e = m.read(at);
    if (e === 0n) {
      e = m.page() | tableBits;
      m.write(at, e);
    }
    table = e & 0x000f_ffff_ffff_f000n;
  }
  const at = table + ((iova >> BigInt(lg2)) & 511n) * 8n;
  m.write(at, gpa | leafBits | (leafLevel > 1 ? 0x80n : 0n));
  return at;
}

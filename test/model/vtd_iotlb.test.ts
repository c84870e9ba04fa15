// The intel-iommu model's IOTLB (QEMU s->iotlb: vtd_lookup_iotlb, vtd_update_iotlb)
// as part of the state: copy-on-write between states, hashed and checkpointed
// by content (src/model/hash.ts state data), and QEMU's reset at VTD_IOTLB_MAX_SIZE.
import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import { foldBatch } from "../../src/model/fold.ts";
import { ProfileService } from "../../src/model/framework.ts";
import { stateHash } from "../../src/model/hash.ts";
import { toJsonValue } from "../../src/model/outcome.ts";
import type { State } from "../../src/model/state.ts";
import { VTD_IOTLB_MAX_SIZE } from "../../src/model/viommu/vtd/translate.ts";
import { Iotlb } from "../../src/pagewalk/index.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { decodeState, encodeState } from "../../src/replay/engine.ts";
import { h as hex, parseAll, run } from "../helpers.ts";
import { VTD_GUEST } from "./qemu_fixtures.ts";

const base = VTD_GUEST;
const mw = (off: number, size: number, value: bigint) => ({ op: "guest.mmio.write", pid: 1, dev: "intel-iommu", off, size, value: hex(value) });
const w = (gpa: number, ...u64: bigint[]) => ({ op: "guest.mem.write", pid: 1, gpa, u64: u64.map(hex) });
const dma = (iova: number, access = "read") => ({ op: "dma", pid: 1, guest_bdf: "00:03.0", iova, access });
/** Legacy tables: root 0x10000, context 0x11000 (devfn 0x18, DID 5, 3-level), SS 0x12000 -> 0x13000 -> leaves 0x14000, 0x15000, 0x16000. */
const tables = [w(0x10000, 0x11001n), w(0x11000 + 0x18 * 16, 0x12001n, 0x501n), w(0x12000, 0x13003n), w(0x13000, 0x14003n, 0x15003n, 0x16003n)];
/** Leaf i (of the 1536 the three leaf tables hold) maps IOVA page i to 0x200000 + i pages (+ `shift` pages), read-only. */
const leaves = (shift = 0) =>
  [0, 1, 2].map((t) => w(0x14000 + t * 0x1000, ...Array.from({ length: 512 }, (_, i) => BigInt((0x200 + t * 512 + i + shift) * 0x1000 + 1))));
const enable = [mw(0x20, 8, 0x10000n), mw(0x18, 4, 0x40000000n), mw(0x18, 4, 0x80000000n)];
const iotlbDomain5 = mw(0xf8, 8, (1n << 63n) | (2n << 60n) | (5n << 32n));

const profile = resolveProfile(["linux-mainline"]);
/** Fold more events onto `state` (one produce), as replay does batch after batch. */
function fold(state: State, raw: Record<string, unknown>[]): State {
  return Effect.runSync(foldBatch(state, parseAll(raw)).pipe(Effect.provideService(ProfileService, profile))).state;
}
const unit = (s: State) => s.qemu.get(1)!.viommu!.unit;
const pa = (o: unknown) => (o as { pa?: string }).pa;

describe("the IOTLB in the state (QEMU s->iotlb)", () => {
  const filled = run([...base, ...tables, ...leaves(), ...enable, dma(0x1010), dma(0x2010)]).result.state;

  it("vtd_update_iotlb caches by source id, PASID (PCI_NO_PASID in legacy mode), page; the entry keeps its domain id", () => {
    expect(unit(filled).iotlb).toBeInstanceOf(Iotlb);
    expect(unit(filled).iotlb.entries()).toEqual([
      { tag: 0x18, pasid: -1, iova: 0x1000n, pageLg2: 12, pa: 0x201000, perm: 1, did: 5, firstStage: false },
      { tag: 0x18, pasid: -1, iova: 0x2000n, pageLg2: 12, pa: 0x202000, perm: 1, did: 5, firstStage: false },
    ]);
  });

  it("is copy-on-write: a later fill or invalidation leaves the earlier state's IOTLB as it was", () => {
    const before = unit(filled).iotlb;
    const entries = before.entries();
    const hash = stateHash(filled);
    const filledMore = fold(filled, [dma(0x3010)]);
    expect(unit(filledMore).iotlb.size).toBe(3);
    const invalidated = fold(filledMore, [iotlbDomain5]);
    expect(unit(invalidated).iotlb.size).toBe(0);
    expect(unit(filledMore).iotlb.size).toBe(3);
    expect(unit(filled).iotlb).toBe(before);
    expect(before.entries()).toEqual(entries);
    expect(stateHash(filled)).toBe(hash);
  });

  it("hashes by content: the same entries hash the same whatever the insertion order and table capacity", () => {
    const a = fold(filled, [dma(0x3010), dma(0x4010)]);
    const b = run([...base, ...tables, ...leaves(), ...enable, dma(0x4010), dma(0x3010), dma(0x2010), dma(0x1010)]).result.state;
    expect(stateHash(a)).toBe(stateHash(b));
    const grown = Iotlb.fromStateData(unit(a).iotlb.entries());
    for (let i = 0; i < 100; i++) grown.insert({ tag: 1, pasid: 0, iova: BigInt(i) << 12n, pageLg2: 12, pa: 0, perm: 1, did: 1, firstStage: false });
    grown.invalidateDomain(1);
    expect(stateHash({ t: grown })).toBe(stateHash({ t: unit(a).iotlb }));
    expect(stateHash(fold(a, [dma(0x5010)]))).not.toBe(stateHash(a));
  });

  it("survives a checkpoint (msgpackr extension): decoded back to an Iotlb with the same entries, hash and later behaviour", () => {
    const decoded = decodeState(encodeState(filled));
    expect(unit(decoded).iotlb).toBeInstanceOf(Iotlb);
    expect(unit(decoded).iotlb.entries()).toEqual(unit(filled).iotlb.entries());
    expect(stateHash(decoded)).toBe(stateHash(filled));
    // Remapped without invalidation: both answer from the cached entry until the domain is invalidated.
    const later = [...leaves(0x100), dma(0x1010), iotlbDomain5, dma(0x1010)];
    const a = run([...base, ...tables, ...leaves(), ...enable, dma(0x1010), dma(0x2010), ...later]).outcomes.slice(-3);
    const outcomes: unknown[] = [];
    const onto = (s: State) =>
      Effect.runSync(foldBatch(s, parseAll(later), (_ev, out) => outcomes.push(out) > 0).pipe(Effect.provideService(ProfileService, profile)));
    onto(decoded);
    expect(outcomes.slice(-3)).toEqual(a);
    expect([pa(a[0]), pa(a[2])]).toEqual(["0x201010", "0x301010"]);
  });

  it("iorr state --json shows the entries (toJsonValue of the state data)", () => {
    const j = toJsonValue(filled) as { qemu: Record<string, { viommu: { unit: { iotlb: unknown } } }> };
    expect(j.qemu["1"]!.viommu.unit.iotlb).toEqual([
      { tag: 0x18, pasid: -1, iova: 0x1000, pageLg2: 12, pa: 0x201000, perm: 1, did: 5, firstStage: false },
      { tag: 0x18, pasid: -1, iova: 0x2000, pageLg2: 12, pa: 0x202000, perm: 1, did: 5, firstStage: false },
    ]);
  });

  it(`vtd_update_iotlb: an IOTLB holding VTD_IOTLB_MAX_SIZE (${VTD_IOTLB_MAX_SIZE}) entries is reset before the next fill`, () => {
    const pages = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => dma((from + i) * 0x1000 + 0x10));
    // 1024 pages cached; page 0 is remapped without invalidation and still answers from the IOTLB.
    const full = run([...base, ...tables, ...leaves(), ...enable, ...pages(0, VTD_IOTLB_MAX_SIZE), ...leaves(0x100), dma(0x10)]);
    expect(unit(full.result.state).iotlb.size).toBe(VTD_IOTLB_MAX_SIZE);
    expect(pa(full.outcomes.at(-1))).toBe("0x200010");
    // The 1025th fill empties the IOTLB first: it then holds that one entry, and page 0 is walked again.
    const reset = fold(full.result.state, pages(VTD_IOTLB_MAX_SIZE, VTD_IOTLB_MAX_SIZE + 1));
    expect(
      unit(reset)
        .iotlb.entries()
        .map((e) => e.iova),
    ).toEqual([BigInt(VTD_IOTLB_MAX_SIZE * 0x1000)]);
    const outcomes: unknown[] = [];
    Effect.runSync(foldBatch(reset, parseAll([dma(0x10)]), (_ev, out) => outcomes.push(out) > 0).pipe(Effect.provideService(ProfileService, profile)));
    expect(pa(outcomes[0])).toBe("0x300010");
    expect(unit(full.result.state).iotlb.size).toBe(VTD_IOTLB_MAX_SIZE);
  });
});

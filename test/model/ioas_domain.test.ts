// The io_pagetable/domain boundary (io_pagetable.c iopt_table_add_domain,
// iopt_table_remove_domain, iopt_reserve_iova, iopt_cut_iova) and the
// no-IOMMU GET_PA command of seed 003 (V4 as posted, merged 60decab3). A fake
// HWPT stands in for the device model, over a domain whose iommu_map /
// iommu_unmap are recorded instead of writing tables.
import { Effect } from "effect";
import { produce } from "immer";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { DomainFormat, PagingDomain } from "../../src/model/domain/state.ts";
import { foldBatch } from "../../src/model/fold.ts";
import { FILE_OPS } from "../../src/model/fops.ts";
import { ProfileService, type ReduceEnv } from "../../src/model/framework.ts";
import { ioptReserve, ioptUnreserve } from "../../src/model/iommufd/io_pagetable.ts";
import { ioptRevokeFile } from "../../src/model/iommufd/ioas_file.ts";
import { ioptAddDomain, ioptCutIova, ioptRemoveDomain } from "../../src/model/iommufd/iopt_domain.ts";
import type { HwptPaging, IommufdCtx, Ioas } from "../../src/model/iommufd/state.ts";
import type { Outcome } from "../../src/model/outcome.ts";
import type { State } from "../../src/model/state.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { h, io, parseAll, run } from "../helpers.ts";

const P = 0x1000;
const BUF = 0x7f0000200000n;
const PA = 0x80000000n; // `buffer` backed by contiguous frames from 2 GiB
const U64_MAX = (1n << 64n) - 1n;
const map = (iova: number | bigint, length: number, va: bigint = BUF) =>
  io("IOMMU_IOAS_MAP", { flags: ["FIXED_IOVA", "READABLE", "WRITEABLE"], ioas_id: 1, user_va: h(va), length: h(length), iova: h(iova) });

function fixture(caps: string[] = []): Record<string, unknown>[] {
  return [
    { op: "process", pid: 1, caps },
    { op: "mem.map", pid: 1, va: h(BUF), length: h(16 * P), pa: h(PA) },
    { op: "open", pid: 1, path: "/dev/iommu" },
    io("IOMMU_IOAS_ALLOC"),
  ];
}

const ctxOf = (s: State): IommufdCtx => [...s.iommufd.values()][0]!;
const ioasOf = (s: State): Ioas => ctxOf(s).objects.get(1) as Ioas;

/** iommu_map / iommu_unmap as they reach a domain, by domain id (each fake HWPT's domain has the HWPT's id). */
const calls = vi.hoisted(() => [] as string[]);
vi.mock(import("../../src/model/domain/domain.ts"), async (importOriginal) => ({
  ...(await importOriginal()),
  domainMapRuns: (_s: unknown, d: { id: number }, runs: readonly { iova: bigint }[]) => void calls.push(`map ${d.id} 0x${runs[0]!.iova.toString(16)}`),
  domainUnmap: (_s: unknown, d: { id: number }, iova: bigint, last: bigint) => void calls.push(`unmap ${d.id} 0x${iova.toString(16)}-0x${last.toString(16)}`),
}));
beforeEach(() => void calls.splice(0));

interface FakeHwpt {
  hwpt: HwptPaging;
  domain: PagingDomain;
}

function hwpt(id: number, format: DomainFormat = "selftest", aperture = { start: 0n, last: U64_MAX }, pgsizeBitmap = 0x1000n): FakeHwpt {
  return {
    hwpt: { id, type: "hwpt_paging", users: 1, ioasId: 1, auto: false, nestParent: false, flags: 0, faultId: null, domainId: id },
    domain: { id, type: "paging", format, root: 0n, levels: 4, pgsizeBitmap, aperture, dirtyOps: false, dirtyTracking: false },
  };
}

type Prof = string | string[];
const profileOf = (p: Prof) => resolveProfile(typeof p === "string" ? [p] : p);

function envOf(profile: Prof): ReduceEnv {
  return { profile: profileOf(profile), seq: 0, fops: FILE_OPS };
}

/** Change a finished state the way a reducer would (the device model attaching a HWPT, say). */
function change<T>(s: State, fn: (d: State, ctx: IommufdCtx, ioas: Ioas, env: ReduceEnv) => T, profile: Prof = "linux-mainline"): { state: State; value: T } {
  let value!: T;
  const state = produce(s, (d) => {
    value = fn(d as State, ctxOf(d as State), ioasOf(d as State), envOf(profile));
  });
  return { state, value };
}

/** Attach a fake HWPT (added to the object table, its domain to the domains) to IOAS 1. */
function attach(s: State, hw: FakeHwpt, profile?: Prof): { state: State; value: string | undefined } {
  return change(
    s,
    (d, ctx, ioas) => {
      ctx.objects.set(hw.hwpt.id, hw.hwpt);
      d.domains.table.set(hw.domain.id, hw.domain);
      return ioptAddDomain(d, ioas, ctx.objects.get(hw.hwpt.id) as HwptPaging);
    },
    profile,
  );
}

/** Fold more events into a state (the seq numbers restart; nothing here depends on them). */
function more(s: State, raw: Record<string, unknown>[], profile: Prof = "linux-mainline"): { state: State; outcomes: Outcome[] } {
  const outcomes: Outcome[] = [];
  const r = Effect.runSync(
    foldBatch(s, parseAll(raw), (_ev, out) => {
      outcomes.push(out);
      return true;
    }).pipe(Effect.provideService(ProfileService, profileOf(profile))),
  );
  return { state: r.state, outcomes };
}

describe("ioptAddDomain (iopt_table_add_domain)", () => {
  it("iommufd.c fork_gone / mock_domain basic: lazy areas are pinned at attach; memory that is not mapped is EFAULT and nothing changes", () => {
    const base = run([...fixture(), map(P, 2 * P), map(0x100000, P, 0x10000000n)]).result.state;
    const bad = attach(base, hwpt(2));
    expect(bad.value).toBe("EFAULT");
    expect(ioasOf(bad.state)).toEqual(ioasOf(base));
    expect(calls).toEqual([]);
    const good = attach(run([...fixture(), map(P, 2 * P)]).result.state, hwpt(2));
    expect(good.value).toBeUndefined();
    expect(ioasOf(good.state).areas[0]!.runs).toEqual([{ iova: BigInt(P), pa: PA, length: BigInt(2 * P) }]);
    expect(ioasOf(good.state).domains).toEqual([2]);
    expect(calls).toEqual(["map 2 0x1000"]);
  });

  it("the aperture's outside becomes reserved (IOVA_RANGES shows the aperture); an area or allowed range outside is EADDRINUSE", () => {
    const ap = { start: 1n << 24n, last: (1n << 31n) - 1n };
    const ok = attach(run(fixture()).result.state, hwpt(2, "selftest", ap, 0x800n));
    expect(ok.value).toBeUndefined();
    const r = more(ok.state, [io("IOMMU_IOAS_IOVA_RANGES", { ioas_id: 1, allowed_iovas: [], num_iovas: 4 }), map(P, P)]);
    expect(r.outcomes[0]!.out).toMatchObject({ num_iovas: 1, allowed_iovas: [{ start: ap.start, last: ap.last }], out_iova_alignment: 0x800n });
    expect(r.outcomes[1]).toEqual({ errno: "EINVAL" }); // iopt_check_iova: the range meets a reserved range
    expect(attach(run([...fixture(), map(P, P)]).result.state, hwpt(2, "selftest", ap)).value).toBe("EADDRINUSE");
    const allowed = run([...fixture(), io("IOMMU_IOAS_ALLOW_IOVAS", { ioas_id: 1, allowed_iovas: [{ start: 0, last: P }] })]).result.state;
    expect(attach(allowed, hwpt(2, "selftest", ap)).value).toBe("EADDRINUSE");
  });

  it("the alignment rises to the domain's smallest page: misaligned areas EADDRINUSE, pages above PAGE_SIZE EINVAL, twice EEXIST", () => {
    const odd = run([...fixture(), map(P + 0x800, P)]).result.state;
    expect(attach(odd, hwpt(2)).value).toBe("EADDRINUSE");
    expect(attach(run(fixture()).result.state, hwpt(2, "selftest", undefined, 0x2000n)).value).toBe("EINVAL");
    const once = attach(run(fixture()).result.state, hwpt(2)).state;
    expect(change(once, (d, ctx, ioas) => ioptAddDomain(d, ioas, ctx.objects.get(2) as HwptPaging)).value).toBe("EEXIST");
    expect(more(once, [map(P + 0x800, P)]).outcomes[0]).toEqual({ errno: "EINVAL" });
  });

  it("with a domain IOAS_MAP pins at once (EFAULT for unbacked memory) and maps into every domain", () => {
    let s = attach(run(fixture()).result.state, hwpt(2)).state;
    s = attach(s, hwpt(3)).state;
    calls.splice(0);
    const r = more(s, [map(P, P), map(2 * P, P, 0x10000000n)]);
    expect(r.outcomes.map((o) => o.ret ?? o.errno)).toEqual([0, "EFAULT"]);
    expect(calls).toEqual(["map 2 0x1000", "map 3 0x1000"]);
    expect(ioasOf(r.state).areas).toHaveLength(1);
  });
});

describe("ioptRemoveDomain (iopt_table_remove_domain)", () => {
  it("unmaps every area from that domain, compacts the list, drops its reservations, unpins with no domain left", () => {
    const ap = { start: 1n << 24n, last: U64_MAX };
    let s = attach(run([...fixture(), map(1 << 24, P)]).result.state, hwpt(2, "selftest", ap)).state;
    s = attach(s, hwpt(3)).state;
    s = attach(s, hwpt(4)).state;
    calls.splice(0);
    s = change(s, (d, ctx, ioas) => ioptRemoveDomain(d, ctx, ioas, ctx.objects.get(2) as HwptPaging)).state;
    expect(ioasOf(s).domains).toEqual([4, 3]); // the last entry takes the removed one's index
    expect(ioasOf(s).reserved).toEqual([]);
    expect(ioasOf(s).areas[0]!.runs).not.toBeNull();
    s = change(s, (d, ctx, ioas) => ioptRemoveDomain(d, ctx, ioas, ctx.objects.get(4) as HwptPaging)).state;
    s = change(s, (d, ctx, ioas) => ioptRemoveDomain(d, ctx, ioas, ctx.objects.get(3) as HwptPaging)).state;
    expect(calls).toEqual(["unmap 2 0x1000000-0x1000fff", "unmap 4 0x1000000-0x1000fff", "unmap 3 0x1000000-0x1000fff"]);
    expect(ioasOf(s).areas[0]!.runs).toBeNull();
    expect(ioasOf(s).iovaAlignment).toBe(1n);
  });

  it("IOMMU_OPTION_HUGE_PAGES 0 is EINVAL while a domain has areas (iopt_disable_large_pages)", () => {
    const s = attach(run([...fixture(), map(P, P)]).result.state, hwpt(2)).state;
    expect(more(s, [io("IOMMU_OPTION", { option_id: 1, op: 0, object_id: 1, val64: 0 })]).outcomes[0]).toEqual({ errno: "EINVAL" });
  });
});

describe("reserved ranges (iopt_reserve_iova, iopt_table_enforce_dev_resv_regions)", () => {
  it("a range over an area or an allowed range is EADDRINUSE and drops the owner's ranges; ALLOW over reserved is EADDRINUSE", () => {
    const s = run([...fixture(), map(P, P)]).result.state;
    const hit = change(s, (_d, _c, ioas) => {
      ioas.reserved.push({ start: 0x800000n, last: 0x800fffn, owner: 7 });
      return ioptReserve(ioas, 7, [
        { start: 0x900000n, last: 0x900fffn },
        { start: 0n, last: BigInt(P) },
      ]);
    });
    expect(hit.value).toBe("EADDRINUSE");
    expect(ioasOf(hit.state).reserved).toEqual([]);
    const ok = change(s, (_d, _c, ioas) => ioptReserve(ioas, 7, [{ start: 0x10000n, last: 0x1ffffn }]));
    expect(ok.value).toBeUndefined();
    const r = more(ok.state, [
      io("IOMMU_IOAS_ALLOW_IOVAS", { ioas_id: 1, allowed_iovas: [{ start: 0x18000, last: 0x20000 }] }),
      io("IOMMU_IOAS_MAP", { flags: ["READABLE"], ioas_id: 1, user_va: h(BUF), length: h(0x10000) }),
      map(0x1f000, P),
      io("IOMMU_IOAS_IOVA_RANGES", { ioas_id: 1, allowed_iovas: [], num_iovas: 2 }),
    ]);
    expect(r.outcomes[0]).toEqual({ errno: "EADDRINUSE" });
    expect(r.outcomes[1]!.out!.iova).toBe(0x20000n); // iopt_alloc_iova skips the reserved range
    expect(r.outcomes[2]).toEqual({ errno: "EINVAL" });
    expect(r.outcomes[3]!.out!.allowed_iovas).toEqual([
      { start: 0n, last: 0xffffn },
      { start: 0x20000n, last: U64_MAX },
    ]);
    expect(ioasOf(change(ok.state, (_d, _c, ioas) => ioptUnreserve(ioas, 7)).state).reserved).toEqual([]);
  });
});

describe("ioptCutIova (iopt_area_split, VFIO type1 v1 unmap in the middle)", () => {
  it("splits an area so that half can be unmapped; with a domain and large pages it is EINVAL", () => {
    const s = run([...fixture(), map(P, 4 * P)]).result.state;
    const cut = change(s, (_d, _c, ioas) => ioptCutIova(ioas, [BigInt(3 * P - 1)]));
    expect(cut.value).toBeUndefined();
    expect(ioasOf(cut.state).areas.map((a) => [a.iova, a.last])).toEqual([
      [0x1000n, 0x2fffn],
      [0x3000n, 0x4fffn],
    ]);
    expect(ioasOf(cut.state).areas[1]!.source).toEqual({ kind: "user", pid: 1, va: BUF + 0x2000n });
    const pinned = attach(s, hwpt(2)).state;
    expect(change(pinned, (_d, _c, ioas) => ioptCutIova(ioas, [BigInt(3 * P - 1)])).value).toBe("EINVAL");
  });
});

describe("dma-buf areas (IOMMU_IOAS_MAP_FILE of an exporter's buffer)", () => {
  it("the exporter's ranges are the PFNs at map time; size EINVAL, revoked ENODEV; a revoke unmaps from every domain", () => {
    // A stand-in buffer of vfio-pci's behind file 1 (the VFIO model makes its own through VFIO_DEVICE_FEATURE_DMA_BUF).
    const buffer = {
      fileId: 1,
      bdf: null,
      regionIndex: 0,
      ranges: [],
      phys: [{ pa: 0xe0000000n, length: BigInt(4 * P) }],
      size: BigInt(4 * P),
      revoked: false,
      revokeGen: 0,
    };
    const withBuffer = produce(run(fixture()).result.state, (d) => void d.dmabufs.set(1, buffer));
    const mf = (start: number, length: number, iova: number) =>
      io("IOMMU_IOAS_MAP_FILE", { flags: ["FIXED_IOVA", "READABLE"], ioas_id: 1, fd: 3, start: h(start), length: h(length), iova: h(iova) });
    const r = more(withBuffer, [mf(4 * P, P, P), mf(P, 2 * P, P), mf(P, 3 * P, 0x10000)]);
    expect(r.outcomes.map((o) => o.ret ?? o.errno)).toEqual(["EINVAL", 0, 0]);
    expect(ioasOf(r.state).areas[0]!.runs).toEqual([{ iova: BigInt(P), pa: 0xe0001000n, length: BigInt(2 * P) }]);
    const s = attach(r.state, hwpt(2)).state;
    calls.splice(0);
    const after = change(s, (d) => {
      ioptRevokeFile(d, 1);
      d.dmabufs.get(1)!.revoked = true;
    }).state;
    expect(calls).toEqual(["unmap 2 0x1000-0x2fff", "unmap 2 0x10000-0x12fff"]);
    expect(ioasOf(after).areas.every((a) => a.revoked)).toBe(true);
    expect(more(after, [mf(0, P, 0x40000)]).outcomes[0]).toEqual({ errno: "ENODEV" });
  });

  it("a file that is not a dma-buf fails when a domain pins it (memfd_pin_folios: EINVAL)", () => {
    const s = run([...fixture(), io("IOMMU_IOAS_MAP_FILE", { flags: ["FIXED_IOVA", "READABLE"], ioas_id: 1, fd: 3, length: h(P), iova: h(P) })]).result.state;
    expect(attach(s, hwpt(2)).value).toBe("EINVAL");
  });
});

describe("IOMMU_IOAS_GET_PA (seed 003 V4) and IOMMU_IOAS_NOIOMMU_GET_PA (merged)", () => {
  const getPa = (iova: number | bigint, length: number | bigint = 0, extra: Record<string, unknown> = {}) =>
    io("IOMMU_IOAS_NOIOMMU_GET_PA", { ioas_id: 1, iova: h(iova), length: h(length), ...extra });
  /** Two one-page areas side by side whose pages are physically contiguous, on the no-IOMMU SW domain. */
  function noiommu(profile: string, caps: string[] = ["CAP_SYS_RAWIO"], format: DomainFormat = "noiommu"): State {
    const s = run([...fixture(caps), map(0x10000, P), map(0x11000, P, BUF + 0x1000n)], profile).result.state;
    return attach(s, hwpt(2, format), profile).state;
  }

  it("V4 scans one page past the area's end when the next IOVA is physically contiguous (Alex Williamson's review); merged stops at the area", () => {
    const v4 = more(noiommu("linux-noiommu-v4"), [getPa(0x10000)], "linux-noiommu-v4").outcomes[0]!;
    expect(v4).toEqual({ ret: 0, out: { size: 40, flags: 0, ioas_id: 1, __reserved: 0, iova: 0x10000n, out_length: 0x2000n, out_phys: PA } });
    const merged = more(noiommu("linux-mainline"), [getPa(0x10000, U64_MAX)]).outcomes[0]!;
    expect(merged.out).toMatchObject({ length: 0x1000n, out_phys: PA });
    // The same V4 kernel with only the review fix applied.
    const fixed = ["linux-noiommu-v4", "get-pa-clamp-area"];
    expect(more(noiommu("linux-noiommu-v4"), [getPa(0x10000)], fixed).outcomes[0]!.out).toMatchObject({ out_length: 0x1000n });
  });

  it("the first chunk runs to the page end from a sub-page IOVA; the merged length input caps the answer", () => {
    const v4 = more(noiommu("linux-noiommu-v4"), [getPa(0x11080)], "linux-noiommu-v4").outcomes[0]!;
    expect(v4.out).toMatchObject({ out_length: 0xf80n, out_phys: PA + 0x1080n });
    const merged = more(noiommu("linux-mainline"), [getPa(0x10080, 0x100)]).outcomes[0]!;
    expect(merged.out).toMatchObject({ length: 0x100n, out_phys: PA + 0x80n });
  });

  it("merged checks in order: CAP_SYS_RAWIO (EPERM), flags (EOPNOTSUPP), length 0 (EINVAL), iova >= ULONG_MAX (EOVERFLOW); V4 has none but flags", () => {
    const m = noiommu("linux-mainline", []);
    expect(more(m, [getPa(0x10000, 0, { flags: 1 })]).outcomes[0]).toEqual({ errno: "EPERM" });
    const root = noiommu("linux-mainline");
    expect(more(root, [getPa(0x10000, 1, { flags: 1 })]).outcomes[0]).toEqual({ errno: "EOPNOTSUPP" });
    expect(more(root, [getPa(0x10000, 0)]).outcomes[0]).toEqual({ errno: "EINVAL" });
    expect(more(root, [getPa(U64_MAX, 1)]).outcomes[0]).toEqual({ errno: "EOVERFLOW" });
    expect(more(root, [getPa(0x20000, 1)]).outcomes[0]).toEqual({ errno: "ENOENT" });
    const v4 = noiommu("linux-noiommu-v4", []);
    expect(more(v4, [getPa(U64_MAX, 0)], "linux-noiommu-v4").outcomes[0]).toEqual({ errno: "ENOENT" });
    expect(more(v4, [getPa(0x10000, 0, { __reserved: 1 })], "linux-noiommu-v4").outcomes[0]).toEqual({ errno: "EOPNOTSUPP" });
  });

  it("an IOAS whose storage domain is not the no-IOMMU SW domain, or has none, is EOPNOTSUPP; the command is unknown in v6.19", () => {
    expect(more(noiommu("linux-mainline", ["CAP_SYS_RAWIO"], "vtd-ss"), [getPa(0x10000, 1)]).outcomes[0]).toEqual({ errno: "EOPNOTSUPP" });
    const bare = run([...fixture(["CAP_SYS_RAWIO"]), map(0x10000, P), getPa(0x10000, 1)]);
    expect(bare.outcomes[5]).toEqual({ errno: "EOPNOTSUPP" });
    expect(run([...fixture(), getPa(0x10000, 1)], "linux-6.19").outcomes[4]).toEqual({ errno: "ENOTTY" });
  });
});

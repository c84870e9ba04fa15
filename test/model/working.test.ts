// The fold's copy-on-write (src/model/working.ts): a batch writes to copies of the root
// tables it reaches, and the new state takes back the earlier state's own objects wherever
// the copies still equal them, so states share what a batch did not change.
import { describe, expect, it } from "vitest";
import { copyTree, shareUnchanged } from "../../src/model/working.ts";
import { Iotlb } from "../../src/pagewalk/index.ts";

const tree = () => ({
  table: new Map<number, { name: string; list: number[] }>([
    [1, { name: "a", list: [1] }],
    [2, { name: "b", list: [2] }],
  ]),
  frame: new Uint8Array([1, 2, 3]),
  big: 1n << 63n,
  nested: { deep: { n: 1 } },
});

describe("copyTree", () => {
  it("copies objects, arrays and Maps all the way down; writes to the copy leave the original as it was", () => {
    const base = tree();
    const copy = copyTree(base);
    copy.table.get(1)!.list.push(9);
    copy.table.delete(2);
    copy.nested.deep.n = 2;
    expect(base).toEqual(tree());
    expect(copy.table.get(1)).not.toBe(base.table.get(1));
  });

  it("shares values written by replacement only (memory frames, bigints); clones a state-data instance (the IOTLB)", () => {
    const base = tree();
    expect(copyTree(base).frame).toBe(base.frame);
    const iotlb = new Iotlb();
    iotlb.insert({ tag: 1, pasid: -1, iova: 0x1000n, pageLg2: 12, pa: 0x2000, perm: 1, did: 5, firstStage: false });
    const copied = copyTree({ iotlb }).iotlb;
    expect(copied).not.toBe(iotlb);
    copied.invalidateDomain(5);
    expect(copied.size).toBe(0);
    expect(iotlb.size).toBe(1);
  });

  it("keeps a null prototype", () => {
    const base = Object.assign(Object.create(null) as Record<string, unknown>, { a: { b: 1 } });
    expect(Object.getPrototypeOf(copyTree(base))).toBeNull();
  });
});

describe("shareUnchanged", () => {
  it("gives back the original itself when nothing changed", () => {
    const base = tree();
    expect(shareUnchanged(base, copyTree(base))).toBe(base);
  });

  it("keeps what changed and shares every unchanged subtree", () => {
    const base = tree();
    const copy = copyTree(base);
    copy.table.get(2)!.list.push(3);
    const next = shareUnchanged(base, copy);
    expect(next).not.toBe(base);
    expect(next.table).not.toBe(base.table);
    expect(next.table.get(1)).toBe(base.table.get(1));
    expect(next.table.get(2)!.name).toBe("b");
    expect(next.table.get(2)!.list).toEqual([2, 3]);
    expect(next.nested).toBe(base.nested);
    expect(base).toEqual(tree());
  });

  it("iteration order is behaviour: a Map or object with the same entries in another order is a change", () => {
    const base = tree();
    const copy = copyTree(base);
    const one = copy.table.get(1)!;
    copy.table.delete(1);
    copy.table.set(1, one);
    const next = shareUnchanged(base, copy);
    expect(next.table).not.toBe(base.table);
    expect([...next.table.keys()]).toEqual([2, 1]);
    expect(next.table.get(1)).toBe(base.table.get(1));
    const o = { x: 1, y: 2 };
    expect(shareUnchanged(o, { y: 2, x: 1 })).not.toBe(o);
    expect(shareUnchanged<object>(o, { x: 1, y: 2, z: undefined })).not.toBe(o);
  });

  it("an array is the same only at the same length with the same elements", () => {
    const base = [{ a: 1 }, { a: 2 }];
    const longer = [...copyTree(base), { a: 3 }];
    const next = shareUnchanged(base, longer);
    expect(next).not.toBe(base);
    expect(next[0]).toBe(base[0]);
    expect(shareUnchanged(base, copyTree(base).slice(0, 1))).not.toBe(base);
  });
});

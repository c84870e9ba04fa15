// Shared by the iommufd.h and vfio.h layout tests: pin each struct's sizeof and
// every member's offset to literals taken from the kernel header.
import { describe, expect, it } from "vitest";
import { structByName } from "../../src/uapi/index.ts";
import type { StructDef } from "../../src/uapi/layout.ts";

export type Layouts = Record<string, [size: number, offsets: Record<string, number>]>;

export function pinLayouts(header: string, layouts: Layouts, structs: readonly StructDef[]): void {
  describe(`${header} struct layouts`, () => {
    for (const [name, [size, offsets]] of Object.entries(layouts)) {
      it(`struct ${name}: sizeof ${size} and every member's offset`, () => {
        const def = structByName(name);
        expect(def, name).toBeDefined();
        expect(def!.size).toBe(size);
        expect(Object.fromEntries(def!.fields.map((f) => [f.name, f.offset]))).toEqual(offsets);
      });
    }

    it("has no struct the test does not pin", () => {
      expect(structs.map((s) => s.name).sort()).toEqual(Object.keys(layouts).sort());
    });
  });
}

// Flag fields (docs/trace-format.md "Flag fields"): every flag field of every op, every
// flag member of every uAPI struct (ioctl arguments, inline driver data) and
// every flag member of an expected `out` takes a number or a list of names, and
// both spellings mean the same bits. The fields are found by walking the op
// table and the struct tables, so a new flag field is covered without a new test.
import { describe, expect, it } from "vitest";
import { OPS, type FieldSpec } from "../../src/model/events.ts";
import { userArg } from "../../src/model/uaccess/arg.ts";
import { firstMismatch } from "../../src/model/outcome.ts";
import { parseTraceEvent } from "../../src/model/ops.ts";
import { IOMMUFD_STRUCTS, UAPI_COMMANDS, VFIO_STRUCTS } from "../../src/uapi/index.ts";
import { encodeStruct, type FieldDef, type FlagTable } from "../../src/uapi/layout.ts";
import { run, refusal } from "../helpers.ts";

/** A flag field of an op: `field`, or `field[0].key` inside a list's objects. */
interface OpFlagField {
  op: string;
  field: string;
  key?: string;
  table: FlagTable;
  path: string;
}

function opFlagFields(): OpFlagField[] {
  const out: OpFlagField[] = [];
  for (const [op, spec] of Object.entries(OPS))
    for (const [field, fs] of Object.entries(spec.fields)) {
      if (fs.kind === "flags") out.push({ op, field, table: fs.flags!, path: field });
      for (const [key, item] of Object.entries(fs.items ?? {}))
        if (item.kind === "flags") out.push({ op, field, key, table: item.flags!, path: `${field}[0].${key}` });
    }
  return out;
}

/** A value of each kind that the op table accepts (the smallest valid event). */
function sample(fs: FieldSpec): unknown {
  switch (fs.kind) {
    case "int":
    case "scalar":
      return 1;
    case "u64":
      return "0x1000";
    case "hostBdf":
      return "0000:01:00.0";
    case "guestBdf":
      return "00:03.0";
    case "string":
      return fs.oneOf?.[0] ?? "x";
    case "bool":
      return false;
    case "list":
      return [];
    case "object":
      return {};
    case "flags":
      return 0;
    default:
      throw new Error(`no sample for a required ${fs.kind} field`);
  }
}

function required(fields: Readonly<Record<string, FieldSpec>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).flatMap(([k, fs]) => (fs.required ? [[k, sample(fs)]] : [])));
}

/** The event with flag field `f` set to `v` and every required field filled in. */
function eventWith(f: OpFlagField, v: unknown): Record<string, unknown> {
  const fields = OPS[f.op]!.fields;
  const ev: Record<string, unknown> = { op: f.op, ...required(fields) };
  ev[f.field] = f.key === undefined ? v : [{ ...required(fields[f.field]!.items!), [f.key]: v }];
  return ev;
}

function fieldValue(f: OpFlagField, ev: Record<string, unknown>): unknown {
  const v = ev[f.field];
  return f.key === undefined ? v : (v as Record<string, unknown>[])[0]![f.key];
}

const names = (t: FlagTable) => Object.keys(t.bits);
const all = (t: FlagTable) => Object.values(t.bits).reduce((a, b) => a + b, 0);

describe("flag fields of ops", () => {
  const fields = opFlagFields();

  it("are found in the op table: host.iommu hw_caps (IOMMU_HW_CAP_*), host.device regions[].flags (VFIO_REGION_INFO_FLAG_*), process caps (CAP_*)", () => {
    expect(fields.map((f) => `${f.op} ${f.path} ${f.table.prefix}`)).toEqual(
      expect.arrayContaining(["host.iommu hw_caps IOMMU_HW_CAP_", "host.device regions[0].flags VFIO_REGION_INFO_FLAG_", "process caps CAP_"]),
    );
  });

  for (const f of fields) {
    it(`${f.op} ${f.path}: a list of ${f.table.prefix}* names, with or without the prefix, is the number of their bits`, () => {
      const n = all(f.table);
      expect(fieldValue(f, parseTraceEvent(eventWith(f, names(f.table)), 1))).toBe(n);
      expect(
        fieldValue(
          f,
          parseTraceEvent(
            eventWith(
              f,
              names(f.table).map((k) => f.table.prefix + k),
            ),
            1,
          ),
        ),
      ).toBe(n);
      expect(fieldValue(f, parseTraceEvent(eventWith(f, n), 1))).toBe(n);
      expect(fieldValue(f, parseTraceEvent(eventWith(f, `0x${n.toString(16)}`), 1))).toBe(n);
      const [first] = names(f.table);
      expect(fieldValue(f, parseTraceEvent(eventWith(f, [first]), 1))).toBe(f.table.bits[first!]);
      expect(fieldValue(f, parseTraceEvent(eventWith(f, []), 1))).toBe(0);
    });

    it(`${f.op} ${f.path}: anything but a number or a list of names is bad input naming the field`, () => {
      for (const bad of [[null], [true], [[]], [{}], {}, true, null, ["NOPE"], [1.5]])
        expect(refusal(eventWith(f, bad))).toMatch(new RegExp(`^${f.path.replace(/[[\]]/g, "\\$&")}: `));
      // The host is described by bits the uAPI names: another bit, or a negative number, is a typo.
      const unnamed = 2 ** 52;
      expect(refusal(eventWith(f, unnamed))).toMatch(/have no .* name/);
      expect(refusal(eventWith(f, -1))).toMatch(/non-negative/);
    });
  }

  it("the model reads the bits whatever the spelling: VFIO_REGION_INFO_FLAG_MMAP of a BAR (vfio_pci_ioctl_get_region_info), CAP_SYS_RAWIO of a no-IOMMU group open, IOMMU_HW_CAP_DIRTY_TRACKING", () => {
    const region = (flags: unknown) =>
      run([
        { op: "host.device", bdf: "0000:01:00.0", regions: [{ index: 0, size: "0x4000", flags }] },
        { op: "process", pid: 1 },
        { op: "open", pid: 1, path: "/dev/vfio/devices/vfio0" },
        { op: "open", pid: 1, path: "/dev/iommu" },
        { op: "ioctl", pid: 1, fd: 3, cmd: "VFIO_DEVICE_BIND_IOMMUFD", arg: { iommufd: 4 } },
        { op: "ioctl", pid: 1, fd: 3, cmd: "VFIO_DEVICE_GET_REGION_INFO", arg: { index: 0 } },
      ]).outcomes[5];
    expect(region(["READ", "WRITE", "MMAP"])).toMatchObject({ ret: 0, out: { flags: 7 } });
    expect(region(7)).toEqual(region(["VFIO_REGION_INFO_FLAG_READ", "FLAG_WRITE", "MMAP"]));
    expect(region(["READ"])).toMatchObject({ ret: 0, out: { flags: 3 } }); // a BAR with a size is READ|WRITE, MMAP as given

    const caps = (c: unknown) => run([{ op: "process", pid: 1, caps: c }]).result.state.processes.get(1)!.caps;
    expect(caps(["SYS_RAWIO", "CAP_IPC_LOCK"])).toEqual(["CAP_IPC_LOCK", "CAP_SYS_RAWIO"]);
    expect(caps((1 << 14) | (1 << 17))).toEqual(["CAP_IPC_LOCK", "CAP_SYS_RAWIO"]);
    expect(caps("0x10000000000")).toEqual(["CAP_CHECKPOINT_RESTORE"]); // bit 40 of the 64-bit kernel_cap_t

    const hw = (c: unknown) => run([{ op: "host.iommu", type: "amd", hw_caps: c }]).result.state.host.iommu!.hwCaps;
    expect(hw(["DIRTY_TRACKING", "PCI_ATS_NOT_SUPPORTED"])).toEqual(["DIRTY_TRACKING", "PCI_ATS_NOT_SUPPORTED"]);
    expect(hw(9)).toEqual(["DIRTY_TRACKING", "PCI_ATS_NOT_SUPPORTED"]);
  });
});

/** Every struct member with a flag table, in every struct of the uAPI. */
function structFlagMembers(): { struct: string; field: FieldDef; encode: (v: unknown) => Uint8Array }[] {
  return [...IOMMUFD_STRUCTS, ...VFIO_STRUCTS].flatMap((s) =>
    s.fields.filter((f) => f.flags).map((field) => ({ struct: s.name, field, encode: (v: unknown) => encodeStruct(s, { [field.name]: v as never }) })),
  );
}

/** Every command with a flag member in its struct argument. */
function commandFlagMembers(): { cmd: string; number: number; field: FieldDef }[] {
  return UAPI_COMMANDS.flatMap((d) =>
    d.arg.kind === "struct" ? d.arg.struct.fields.filter((f) => f.flags).map((field) => ({ cmd: d.name, number: d.number, field })) : [],
  );
}

describe("flag members of uAPI structs (ioctl arguments and inline driver data)", () => {
  const members = structFlagMembers();

  it("are found in the struct tables", () => {
    expect(members.map((m) => `${m.struct}.${m.field.name}`)).toEqual(
      expect.arrayContaining(["iommu_ioas_map.flags", "iommu_hwpt_vtd_s1.flags", "vfio_region_info.flags", "iommu_hw_info.out_capabilities"]),
    );
  });

  for (const m of members) {
    it(`${m.struct}.${m.field.name}: ${m.field.flags!.prefix}* names encode to the bytes of their number`, () => {
      const t = m.field.flags!;
      expect(m.encode(names(t))).toEqual(m.encode(all(t)));
      expect(m.encode(names(t).map((k) => t.prefix + k))).toEqual(m.encode(all(t)));
      for (const bad of [[null], [true], [[]], {}, true, ["NOPE"]]) expect(() => m.encode(bad), JSON.stringify(bad)).toThrow(/expected|unknown flag/);
    });
  }

  for (const c of commandFlagMembers()) {
    it(`ioctl ${c.cmd} arg.${c.field.name}: names and number are the same call; [null] is bad input naming arg.${c.field.name}`, () => {
      const t = c.field.flags!;
      const ev = (v: unknown) => parseTraceEvent({ op: "ioctl", pid: 1, fd: 3, cmd: c.cmd, arg: { [c.field.name]: v } }, 1);
      const def = UAPI_COMMANDS.find((d) => d.name === c.cmd)!;
      expect(userArg(def, ev(names(t)))).toEqual(userArg(def, ev(all(t))));
      expect(refusal({ op: "ioctl", pid: 1, fd: 3, cmd: c.cmd, arg: { [c.field.name]: [null] } })).toMatch(new RegExp(`^arg\\.${c.field.name}: `));
    });
  }
});

describe("flag members of an expected out (replay --verify)", () => {
  for (const c of commandFlagMembers()) {
    const t = c.field.flags!;
    const actual = { ret: 0, out: { [c.field.name]: all(t) } };
    it(`${c.cmd} out.${c.field.name}: ${t.prefix}* names match the number the kernel wrote back, by name or by number of the command`, () => {
      for (const cmd of [c.cmd, c.number]) {
        expect(firstMismatch({ ret: 0, out: { [c.field.name]: names(t) } }, actual, { op: "ioctl", cmd })).toBeUndefined();
        if (names(t).length > 1)
          expect(firstMismatch({ ret: 0, out: { [c.field.name]: names(t).slice(1) } }, actual, { op: "ioctl", cmd })).toBe(`out.${c.field.name}`);
      }
    });

    it(`${c.cmd} out.${c.field.name}: an unknown name or a non-name element is bad input naming expect.out.${c.field.name}`, () => {
      for (const bad of [["NOPE"], [null], [[]], {}, false])
        expect(refusal({ op: "ioctl", pid: 1, fd: 3, cmd: c.cmd, expect: { ret: 0, out: { [c.field.name]: bad } } })).toMatch(
          new RegExp(`^expect\\.out\\.${c.field.name}: `),
        );
      // `true` asks only that the member be present.
      expect(() => parseTraceEvent({ op: "ioctl", pid: 1, fd: 3, cmd: c.cmd, expect: { ret: 0, out: { [c.field.name]: true } } }, 1)).not.toThrow();
    });
  }

  it("an enumeration member compares by its uAPI name too (iommu_hw_info.out_data_type)", () => {
    const actual = { ret: 0, out: { out_data_type: 1 } };
    expect(firstMismatch({ out: { out_data_type: "INTEL_VTD" } }, actual, { op: "ioctl", cmd: "IOMMU_GET_HW_INFO" })).toBeUndefined();
    expect(firstMismatch({ out: { out_data_type: "ARM_SMMUV3" } }, actual, { op: "ioctl", cmd: "IOMMU_GET_HW_INFO" })).toBe("out.out_data_type");
  });

  it("without the event, names are not numbers", () => {
    expect(firstMismatch({ out: { flags: ["READ"] } }, { out: { flags: 1 } })).toBe("out.flags");
  });
});

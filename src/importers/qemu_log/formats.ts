// The table of event formats: every trace-events definition (trace_events.ts) and the older
// formats of the events whose format changed, each compiled from its printf format to a
// regex that captures the arguments. The log backend writes `name + " " + fmt` expanded
// by printf (scripts/tracetool/backend/log.py), so a line's text after the name and one
// space must match one of its event's formats.

import { TRACE_EVENTS } from "./trace_events.ts";

export type ArgKind = "int" | "hex" | "ptr" | "str" | "char";

export interface EventFormat {
  name: string;
  /** The format as printf sees it (PRI* macros expanded), for messages. */
  printf: string;
  /** The argument names of the definition, one per conversion. */
  args: string[];
  kinds: ArgKind[];
  re: RegExp;
  /** Where an older format comes from (QEMU commit and version), absent for master's. */
  since?: string;
}

/** Older formats of events whose format changed, as docs of QEMU's history give them (newest first after master's). */
const OLD_FORMATS = `
pci_cfg_read(const char *dev, unsigned devid, unsigned fnid, unsigned offs, unsigned val) "%s %02u:%u @0x%x -> 0x%x"|before deeb956c40 (QEMU 7.0): slot in decimal, no bus
pci_cfg_write(const char *dev, unsigned devid, unsigned fnid, unsigned offs, unsigned val) "%s %02u:%u @0x%x <- 0x%x"|before deeb956c40 (QEMU 7.0): slot in decimal, no bus
vfio_pci_read_config(const char *name, int addr, int len, int val) " (%s, @0x%x, len=0x%x) %x"|before 8908eb1a4a (QEMU 2.11): value without 0x
vfio_listener_region_add_ram(uint64_t iova_start, uint64_t iova_end, void *vaddr) "region_add [ram] %"PRIx64" - %"PRIx64" [%p]"|before 8908eb1a4a (QEMU 2.11)
vfio_iommu_map_notify(const char *op, uint64_t iova_start, uint64_t iova_end) "iommu %s @ %"PRIx64" - %"PRIx64|before 8908eb1a4a (QEMU 2.11)
vfio_listener_region_add_iommu(uint64_t start, uint64_t end) "region_add [iommu] 0x%"PRIx64" - 0x%"PRIx64|before a6586419a1 (QEMU 9.1): no MR name
vfio_realize(const char *name, int group_id) " (%s) group %d"|before 5456b1867d (QEMU 8.2): renamed vfio_device_attach
vtd_page_walk_one(uint16_t domain, uint64_t iova, uint64_t gpa, uint64_t mask, int perm) "domain 0x%"PRIu16" iova 0x%"PRIx64" -> gpa 0x%"PRIx64" mask 0x%"PRIx64" perm %d"|before 2539eade4f (QEMU 7.0): domain in decimal after 0x
vtd_translate_pt(uint16_t sid, uint64_t addr) "source id 0x%"PRIu16", iova 0x%"PRIx64|before 2539eade4f (QEMU 7.0): sid in decimal after 0x
vtd_pt_enable_fast_path(uint16_t sid, bool success) "sid 0x%"PRIu16" %d"|before 2539eade4f (QEMU 7.0): sid in decimal after 0x
iommufd_backend_connect(int fd, bool owned, uint32_t users, int ret) "fd=%d owned=%d users=%d (%d)"|before 9067d50dff (QEMU 9.1)
iommufd_backend_alloc_ioas(int iommufd, uint32_t ioas, int ret) " iommufd=%d ioas=%d (%d)"|before 9067d50dff (QEMU 9.1)
iommufd_backend_get_dirty_bitmap(int iommufd, uint32_t hwpt_id, uint64_t iova, uint64_t size, uint64_t page_size, int ret) " iommufd=%d hwpt=%u iova=0x%"PRIx64" size=0x%"PRIx64" page_size=0x%"PRIx64" (%d)"|before e98a1c7049 (2025-12): no flags
vfio_pci_hot_reset_dep_devices_iommufd(const char *name, int devid) "%s devid %d"|out of tree (RFC, 2023)
`;

/** The conversion a PRI* macro stands for (inttypes.h): only its letter matters to the text. */
const PRI = /^PRI([diouxX])(8|16|32|64|PTR|MAX)$/;

/** The C string pieces and PRI* macros of a trace-events format, concatenated as the compiler does. */
export function cFormat(src: string): string {
  let out = "";
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === " " || c === "\t") {
      i++;
    } else if (c === '"') {
      i++;
      while (i < src.length && src[i] !== '"') {
        if (src[i] === "\\") {
          const e = src[i + 1]!;
          out += e === "t" ? "\t" : e === "n" ? "\n" : e;
          i += 2;
        } else out += src[i++];
      }
      i++;
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(src.slice(i));
      if (!m) throw new Error(`format ${src}: unexpected ${c}`);
      const pri = PRI.exec(m[0]);
      if (!pri) throw new Error(`format ${src}: unknown macro ${m[0]}`);
      out += pri[1];
      i += m[0].length;
    }
  }
  return out;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** What glibc's printf writes for each conversion, as a capturing group. */
const CONVERSIONS: Record<string, { re: string; kind: ArgKind }> = {
  d: { re: "(-?\\d+)", kind: "int" },
  i: { re: "(-?\\d+)", kind: "int" },
  u: { re: "(\\d+)", kind: "int" },
  o: { re: "([0-7]+)", kind: "int" },
  x: { re: "([0-9a-f]+)", kind: "hex" },
  X: { re: "([0-9A-F]+)", kind: "hex" },
  p: { re: "(0x[0-9a-f]+|\\(nil\\))", kind: "ptr" },
  c: { re: "([\\s\\S])", kind: "char" },
  s: { re: "([\\s\\S]*?)", kind: "str" },
};

/** A printf format to a regex with one group per conversion (glibc's output for each). */
export function compilePrintf(fmt: string): { re: RegExp; kinds: ArgKind[] } {
  const kinds: ArgKind[] = [];
  let re = "";
  const spec = /%([-+ #0]*)(\d*)(?:\.\d+)?(hh|h|ll|l|z|j|t)?([diouxXpscf%])/g;
  let last = 0;
  for (let m = spec.exec(fmt); m; m = spec.exec(fmt)) {
    re += escapeRe(fmt.slice(last, m.index));
    last = spec.lastIndex;
    const c = m[4]!;
    if (c === "%") {
      re += "%";
      continue;
    }
    const conv = CONVERSIONS[c];
    if (!conv) throw new Error(`format ${fmt}: %${c} is not used by these events`);
    re += conv.re;
    kinds.push(conv.kind);
  }
  re += escapeRe(fmt.slice(last));
  // The log backend writes one space after the name; a format that starts with a space gives two.
  // Some tools strip trailing blanks, so an empty format also matches nothing at all.
  return { re: new RegExp(`^${re}$`), kinds };
}

const DEFINITION = /^([a-z0-9_]+)\((.*?)\)\s+("(?:.*))$/;

function compileDefinition(line: string, since?: string): EventFormat {
  const m = DEFINITION.exec(line);
  if (!m) throw new Error(`not a trace-events definition: ${line}`);
  const params = m[2]! === "void" ? [] : m[2]!.split(",").map((p) => /([A-Za-z0-9_]+)\s*$/.exec(p.trim())![1]!);
  const printf = cFormat(m[3]!);
  const { re, kinds } = compilePrintf(printf);
  if (kinds.length !== params.length) throw new Error(`${m[1]}: ${kinds.length} conversions for ${params.length} arguments`);
  return { name: m[1]!, printf, args: params, kinds, re, ...(since ? { since } : {}) };
}

function buildTable(): Map<string, EventFormat[]> {
  const table = new Map<string, EventFormat[]>();
  const add = (f: EventFormat) => table.set(f.name, [...(table.get(f.name) ?? []), f]);
  for (const line of TRACE_EVENTS.split("\n")) if (line.trim()) add(compileDefinition(line.trim()));
  for (const line of OLD_FORMATS.split("\n")) {
    if (!line.trim()) continue;
    const bar = line.lastIndexOf("|");
    add(compileDefinition(line.slice(0, bar).trim(), line.slice(bar + 1)));
  }
  return table;
}

/** Every known event name to its formats, master's first. */
export const EVENT_FORMATS: ReadonlyMap<string, readonly EventFormat[]> = buildTable();

export type ArgValue = bigint | string;

/** The arguments of `text` under the first format of `name` it matches, or undefined. */
export function matchArgs(name: string, text: string): { format: EventFormat; args: Record<string, ArgValue> } | undefined {
  for (const format of EVENT_FORMATS.get(name) ?? []) {
    const m = format.re.exec(text) ?? (format.printf === "" && text === "" ? [] : null);
    if (!m) continue;
    const args: Record<string, ArgValue> = {};
    format.args.forEach((a, i) => {
      const v = m[i + 1]!;
      const k = format.kinds[i]!;
      args[a] = k === "int" ? BigInt(v) : k === "hex" ? BigInt(`0x${v}`) : k === "ptr" ? (v === "(nil)" ? 0n : BigInt(v)) : v;
    });
    return { format, args };
  }
  return undefined;
}

// The intel-iommu (QEMU hw/i386/intel_iommu.c) configuration: its properties
// as vtd_properties[] and x86_iommu_properties declare them, the checks of
// vtd_realize / vtd_decide_config with their exact messages, and CAP_REG /
// ECAP_REG as vtd_cap_init (+ vtd_init for svm) computes them. Pure data and
// functions: the reducer (src/model/qemu/viommu.ts) only stores the result.
//
// Two QEMU generations are told apart by `VtdEra`:
// - "v5": the QEMU the x-flts nesting series v5 (seed 001, 2025-08) applies
//   to: no ESRTPS (0305eceecd, 2025-09), no svm, ECAP.PASID without PSS,
//   "Scalable mode(flts=on)" in the aw-bits message, and vtd_realize's
//   "PASID based device IOTLB is not supported";
// - "master": QEMU master 2026-02 (profile switch vtd-flts-final), after the
//   terminology update 4fda086f76 ("Scalable mode(x-flts=on)").
// `pasidWidth` (switch vtd-pasid-rfc2): the RFCv2 `pasid` property (uint8, the
// PASID width; 0 = off) replaces x-pasid-mode, and ECAP.PSS = pasid - 1.

import { describe } from "../../values.ts";

/**
 * The interrupt controller the accelerator gives the machine (`-accel`, `-machine kernel-irqchip=`):
 * what x86_iommu_realize and vtd_decide_config resolve intremap=auto and eim=auto from.
 */
export interface MachineIrqchip {
  /** kvm_irqchip_in_kernel(): KVM with kernel-irqchip on or split (never under qtest or TCG). */
  inKernel: boolean;
  /** kvm_irqchip_is_split(). */
  split: boolean;
}

/** No in-kernel irqchip: -accel qtest (the oracle's QEMU) or TCG. */
export const NO_KERNEL_IRQCHIP: MachineIrqchip = { inKernel: false, split: false };

export type VtdEra = "v5" | "master";

export interface VtdVersion {
  era: VtdEra;
  /** intel-iommu PASID RFCv2: the `pasid` width property instead of x-pasid-mode. */
  pasidWidth: boolean;
}

export const VTD_MASTER: VtdVersion = { era: "master", pasidWidth: false };

export type OnOffAuto = "on" | "off" | "auto";

/** The properties of one intel-iommu, resolved (auto values decided). */
export interface VtdConfig {
  awBits: number;
  cachingMode: boolean;
  scalableMode: boolean;
  /** x-flts (s->flts, s->fsts in master). */
  flts: boolean;
  fs1gp: boolean;
  snoopControl: boolean;
  /** PASID: 0 off; x-pasid-mode=on gives the fixed width 8 (PSS 7, "limit: MemTxAttrs::pid"); RFCv2 `pasid` gives its value. */
  pasid: number;
  svm: boolean;
  dmaDrain: boolean;
  dmaTranslation: boolean;
  staleTm: boolean;
  /** x86-iommu intremap, resolved. */
  intremap: boolean;
  /** eim, resolved. */
  eim: boolean;
  deviceIotlb: boolean;
  pt: boolean;
}

// --- CAP_REG (hw/i386/intel_iommu_internal.h) ---
export const VTD_CAP_ND = 6n; // ((16 - 4) / 2) & 7: 16-bit domain ids
export const VTD_CAP_CM = 1n << 7n;
export const VTD_CAP_SAGAW_39bit = 0x2n << 8n;
export const VTD_CAP_SAGAW_48bit = 0x4n << 8n;
export const VTD_CAP_MGAW = (aw: number): bigint => BigInt((aw - 1) & 0x3f) << 16n;
export const VTD_CAP_FRO = 0x220n << 20n; // DMAR_FRCD_REG_OFFSET in 16-byte units at bit 24
export const VTD_CAP_SSLPS = (1n << 34n) | (1n << 35n);
export const VTD_CAP_PSI = 1n << 39n;
export const VTD_CAP_NFR = 0n; // (1 - 1) << 40: one fault-recording register
export const VTD_CAP_MAMV = 18n << 48n;
export const VTD_CAP_DRAIN = (1n << 54n) | (1n << 55n);
export const VTD_CAP_FS1GP = 1n << 56n;
export const VTD_CAP_ESRTPS = 1n << 63n;

// --- ECAP_REG ---
export const VTD_ECAP_QI = 1n << 1n;
export const VTD_ECAP_DT = 1n << 2n;
export const VTD_ECAP_IR = 1n << 3n;
export const VTD_ECAP_EIM = 1n << 4n;
export const VTD_ECAP_PT = 1n << 6n;
export const VTD_ECAP_SC = 1n << 7n;
export const VTD_ECAP_IRO = 0xf0n << 4n; // DMAR_IOTLB_REG_OFFSET in 16-byte units at bit 8
export const VTD_ECAP_MHMV = 15n << 20n;
/** Only in the nesting series' patch versions (seed 001 v5); never in master. */
export const VTD_ECAP_NEST = 1n << 26n;
export const VTD_ECAP_PRS = 1n << 29n;
export const VTD_ECAP_SRS = 1n << 31n;
export const VTD_ECAP_NWFS = 1n << 33n;
export const VTD_ECAP_PSS_SHIFT = 35n;
export const VTD_ECAP_PSS = 7n << VTD_ECAP_PSS_SHIFT;
export const VTD_ECAP_PASID = 1n << 40n;
export const VTD_ECAP_PDS = 1n << 42n;
export const VTD_ECAP_SMTS = 1n << 43n;
export const VTD_ECAP_SSTS = 1n << 46n;
export const VTD_ECAP_FSTS = 1n << 47n;

/** VTD_ECAP_GET_PSS: ECAP bits 39:35. */
export const vtdEcapPss = (ecap: bigint): number => Number((ecap >> VTD_ECAP_PSS_SHIFT) & 0x1fn);

export const VTD_HOST_AW_39BIT = 39;
export const VTD_HOST_AW_48BIT = 48;
/** The PCI spec's maximum PASID width (RFCv2 check). */
export const VTD_PASID_WIDTH_MAX = 20;

type PropKind = "bool" | "onoffauto" | "uint";

/** vtd_properties[] + x86_iommu_properties, by era: the names QEMU knows. */
function propTable(v: VtdVersion): Record<string, PropKind> {
  const t: Record<string, PropKind> = {
    version: "uint",
    eim: "onoffauto",
    "aw-bits": "uint",
    "caching-mode": "bool",
    "x-scalable-mode": "bool",
    "x-flts": "bool",
    "snoop-control": "bool",
    "dma-drain": "bool",
    "stale-tm": "bool",
    fs1gp: "bool",
    intremap: "onoffauto",
    "device-iotlb": "bool",
    pt: "bool",
    "dma-translation": "bool",
  };
  if (v.pasidWidth) t.pasid = "uint";
  else t["x-pasid-mode"] = "bool";
  if (v.era === "master") t.svm = "bool";
  return t;
}

/** A property value QEMU's qdev parsers would not take: the trace is bad input. */
export class VtdPropError extends Error {
  constructor(
    readonly prop: string,
    message: string,
  ) {
    super(message);
  }
}

function boolOf(name: string, v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "string" && ["on", "yes", "true", "y"].includes(v.toLowerCase())) return true;
  if (typeof v === "string" && ["off", "no", "false", "n"].includes(v.toLowerCase())) return false;
  throw new VtdPropError(name, `expected on or off, got ${describe(v)}`);
}

function onOffAutoOf(name: string, v: unknown): OnOffAuto {
  if (v === "auto") return "auto";
  return boolOf(name, v) ? "on" : "off";
}

function uintOf(name: string, v: unknown, max: number): number {
  const n = typeof v === "string" && /^(0x[0-9a-f]+|[0-9]+)$/i.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > max) throw new VtdPropError(name, `expected an integer 0..${max}, got ${describe(v)}`);
  return n;
}

/** Every property some modelled intel-iommu declares: the eras differ in which exist, never in a type. */
const ANY_ERA: Readonly<Record<string, PropKind>> = { ...propTable({ era: "master", pasidWidth: true }), ...propTable(VTD_MASTER) };

/** The value of intel-iommu property `name` (one some era declares) as QEMU's qdev setter parses it; VtdPropError when it would not. */
export function vtdPropValue(name: string, v: unknown): boolean | OnOffAuto | number {
  const kind = ANY_ERA[name];
  if (kind === "bool") return boolOf(name, v);
  if (kind === "onoffauto") return onOffAutoOf(name, v);
  if (kind === "uint") return uintOf(name, v, name === "version" ? 0xffffffff : 0xff);
  throw new VtdPropError(name, `intel-iommu has no property ${name}`);
}

/** Does some modelled intel-iommu declare property `name`? */
export function isVtdProp(name: string): boolean {
  return Object.hasOwn(ANY_ERA, name);
}

/** Outcome of realizing an intel-iommu: its resolved config and registers, or QEMU's error message. */
export type VtdRealize = { ok: true; config: VtdConfig; cap: bigint; ecap: bigint } | { ok: false; error: string };

/**
 * Set the properties (an unknown one fails as object_property_find: "Property
 * 'intel-iommu.NAME' not found"), then vtd_realize: [v5: the PASID device-IOTLB
 * check], vtd_decide_config, vtd_init (vtd_cap_init). Interrupt remapping is
 * resolved from the machine's irqchip: x86_iommu_realize turns intremap=auto on
 * unless the whole irqchip is in the kernel (KVM, kernel-irqchip=on), where
 * intremap=on is refused; vtd_decide_config turns eim=auto on only with an
 * in-kernel irqchip (KVM) and intremap (a KVM with X2APIC_API is assumed).
 */
export function vtdRealize(props: Readonly<Record<string, unknown>>, v: VtdVersion = VTD_MASTER, irqchip: MachineIrqchip = NO_KERNEL_IRQCHIP): VtdRealize {
  const table = propTable(v);
  const p: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(props)) {
    if (!table[k]) return { ok: false, error: `Property 'intel-iommu.${k}' not found` };
    p[k] = vtdPropValue(k, val);
  }
  const b = (k: string, dflt: boolean) => (p[k] as boolean | undefined) ?? dflt;
  const intremapProp = (p.intremap as OnOffAuto | undefined) ?? "auto";
  const irqAllKernel = irqchip.inKernel && !irqchip.split;
  const intremap = intremapProp === "auto" ? !irqAllKernel : intremapProp === "on";
  // x86_iommu_realize, before vtd_realize.
  if (intremap && irqAllKernel) return { ok: false, error: "Interrupt Remapping cannot work with kernel-irqchip=on, please use 'split|off'." };
  const eimProp = (p.eim as OnOffAuto | undefined) ?? "auto";
  const pasid = v.pasidWidth ? ((p.pasid as number | undefined) ?? 0) : b("x-pasid-mode", false) ? 8 : 0;
  const cfg: VtdConfig = {
    awBits: (p["aw-bits"] as number | undefined) ?? VTD_HOST_AW_48BIT,
    cachingMode: b("caching-mode", false),
    scalableMode: b("x-scalable-mode", false),
    flts: b("x-flts", false),
    fs1gp: b("fs1gp", true),
    snoopControl: b("snoop-control", false),
    pasid,
    svm: b("svm", false),
    dmaDrain: b("dma-drain", true),
    dmaTranslation: b("dma-translation", true),
    staleTm: b("stale-tm", false),
    intremap,
    eim: eimProp === "on" || (eimProp === "auto" && irqchip.inKernel && intremap),
    deviceIotlb: b("device-iotlb", false),
    pt: b("pt", true),
  };
  const error = vtdRealizeError(cfg, eimProp, v);
  if (error) return { ok: false, error };
  const { cap, ecap } = vtdCapEcap(cfg, v);
  return { ok: true, config: cfg, cap, ecap };
}

/** vtd_realize's checks before vtd_init, in QEMU's order; undefined when they pass. */
export function vtdRealizeError(s: VtdConfig, eimProp: OnOffAuto, v: VtdVersion = VTD_MASTER): string | undefined {
  // vtd_realize (removed by the svm series, which made svm need device-iotlb).
  if (v.era === "v5" && s.pasid && s.deviceIotlb) return "PASID based device IOTLB is not supported";
  // vtd_decide_config
  if (eimProp === "on" && !s.intremap) return "eim=on cannot be selected without intremap=on";
  if (!s.scalableMode && s.flts) return "x-flts is only available in scalable mode";
  if (!s.flts && s.awBits !== VTD_HOST_AW_39BIT && s.awBits !== VTD_HOST_AW_48BIT)
    return `${s.scalableMode ? "Scalable mode(flts=off)" : "Legacy mode"}: supported values for aw-bits are: ${VTD_HOST_AW_39BIT}, ${VTD_HOST_AW_48BIT}`;
  if (s.flts && s.awBits !== VTD_HOST_AW_48BIT)
    return `Scalable mode(${v.era === "master" ? "x-flts" : "flts"}=on): supported value for aw-bits is: ${VTD_HOST_AW_48BIT}`;
  if (s.scalableMode && !s.dmaDrain) return "Need to set dma_drain for scalable mode";
  // RFCv2 9536c3f25f (position in vtd_decide_config: before the scalable-mode check, an assumption).
  if (v.pasidWidth && s.pasid > VTD_PASID_WIDTH_MAX) return `PASID width ${s.pasid}, exceed Max PASID Width ${VTD_PASID_WIDTH_MAX} allowed in PCI spec`;
  if (s.pasid && !s.scalableMode) return "Need to set scalable mode for PASID";
  if (v.era === "master" && s.svm) {
    if (!s.deviceIotlb) return "Need to set device IOTLB for svm";
    if (!s.flts) return "Need to set flts for svm";
    if (!s.dmaTranslation) return "Need to set dma-translation for svm";
    if (!s.pasid) return "Need to set PASID support for svm";
  }
  return undefined;
}

/** CAP_REG and ECAP_REG as vtd_cap_init (and vtd_init for svm) compute them. Pure. */
export function vtdCapEcap(s: VtdConfig, v: VtdVersion = VTD_MASTER): { cap: bigint; ecap: bigint } {
  let cap = VTD_CAP_FRO | VTD_CAP_NFR | VTD_CAP_ND | VTD_CAP_MAMV | VTD_CAP_PSI | VTD_CAP_SSLPS | VTD_CAP_MGAW(s.awBits);
  if (v.era === "master") cap |= VTD_CAP_ESRTPS;
  if (s.dmaDrain) cap |= VTD_CAP_DRAIN;
  if (s.dmaTranslation) {
    if (s.awBits >= VTD_HOST_AW_39BIT) cap |= VTD_CAP_SAGAW_39bit;
    if (s.awBits >= VTD_HOST_AW_48BIT) cap |= VTD_CAP_SAGAW_48bit;
  }
  let ecap = VTD_ECAP_QI | VTD_ECAP_IRO;
  if (s.intremap) {
    ecap |= VTD_ECAP_IR | VTD_ECAP_MHMV;
    if (s.eim) ecap |= VTD_ECAP_EIM;
  }
  if (s.deviceIotlb) ecap |= VTD_ECAP_DT;
  if (s.pt) ecap |= VTD_ECAP_PT;
  if (s.cachingMode) cap |= VTD_CAP_CM;
  if (s.flts) {
    ecap |= VTD_ECAP_SMTS | VTD_ECAP_FSTS;
    if (s.fs1gp) cap |= VTD_CAP_FS1GP;
  } else if (s.scalableMode) {
    ecap |= VTD_ECAP_SMTS | VTD_ECAP_SRS | VTD_ECAP_SSTS;
  }
  if (s.snoopControl) ecap |= VTD_ECAP_SC;
  if (s.pasid) {
    ecap |= VTD_ECAP_PASID;
    // master: the fixed PSS (7); RFCv2: deposit64(ecap, 35, 5, pasid - 1); v5: no PSS.
    if (v.pasidWidth) ecap |= BigInt(s.pasid - 1) << VTD_ECAP_PSS_SHIFT;
    else if (v.era === "master") ecap |= VTD_ECAP_PSS;
  }
  if (v.era === "master" && s.svm) ecap |= VTD_ECAP_PRS | VTD_ECAP_PDS | VTD_ECAP_NWFS;
  return { cap, ecap };
}

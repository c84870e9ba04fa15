// The intel-iommu register file's layout, after QEMU hw/i386/intel_iommu_internal.h
// (the DMAR_* offsets, the GCMD / GSTS / FSTS / FECTL / ICS bits) and vtd_init's
// vtd_define_long / vtd_define_quad (each word's wmask, w1cmask and womask).

// --- register offsets (intel_iommu_internal.h) ---
export const DMAR_VER = 0x00;
export const DMAR_CAP = 0x08;
export const DMAR_ECAP = 0x10;
export const DMAR_GCMD = 0x18;
export const DMAR_GSTS = 0x1c;
export const DMAR_RTADDR = 0x20;
export const DMAR_CCMD = 0x28;
export const DMAR_FSTS = 0x34;
export const DMAR_FECTL = 0x38;
export const DMAR_FEDATA = 0x3c;
export const DMAR_FEADDR = 0x40;
export const DMAR_FEUADDR = 0x44;
export const DMAR_PMEN = 0x64;
export const DMAR_IQH = 0x80;
export const DMAR_IQT = 0x88;
export const DMAR_IQA = 0x90;
export const DMAR_ICS = 0x9c;
export const DMAR_IECTL = 0xa0;
export const DMAR_IEDATA = 0xa4;
export const DMAR_IEADDR = 0xa8;
export const DMAR_IRTA = 0xb8;
export const DMAR_IVA = 0xf0; // DMAR_IOTLB_REG_OFFSET (ECAP.IRO)
export const DMAR_IOTLB = 0xf8;
export const DMAR_FRCD = 0x220;
export const DMAR_REG_SIZE = 0x230;

// GCMD / GSTS bits
export const GCMD_TE = 1 << 31;
export const GCMD_SRTP = 1 << 30;
export const GCMD_QIE = 1 << 26;
export const GCMD_IRE = 1 << 25;
export const GCMD_SIRTP = 1 << 24;
// FSTS / FECTL / ICS / IECTL
export const FSTS_PFO = 1 << 0;
export const FSTS_PPF = 1 << 1;
export const FSTS_IQE = 1 << 4;
export const FSTS_FRI_MASK = 0xff00;
export const CTL_IM = 1 << 31;
export const CTL_IP = 1 << 30;
export const ICS_IWC = 1;

/** (wmask, w1cmask, womask) of one 32-bit register word; an undefined word is 0/0/0 (read 0, writes ignored). */
type Masks = readonly [number, number, number];
const M = (w: number, w1c = 0, wo = 0): Masks => [w >>> 0, w1c >>> 0, wo >>> 0];
export const MASKS: ReadonlyMap<number, Masks> = new Map<number, Masks>([
  [DMAR_GCMD, M(0xff800000, 0, 0xff800000)],
  [DMAR_RTADDR, M(0xfffffc00)],
  [DMAR_RTADDR + 4, M(0xffffffff)],
  [DMAR_CCMD, M(0xffffffff, 0, 0xffff0000)],
  [DMAR_CCMD + 4, M(0xe0000003, 0, 0x3)],
  [DMAR_FSTS, M(0, 0x11)],
  [DMAR_FECTL, M(0x80000000)],
  [DMAR_FEDATA, M(0xffff)],
  [DMAR_FEADDR, M(0xfffffffc)],
  [DMAR_IQT, M(0x7fff0)],
  [DMAR_IQA, M(0xfffff807)],
  [DMAR_IQA + 4, M(0xffffffff)],
  [DMAR_ICS, M(0, 0x1)],
  [DMAR_IECTL, M(0x80000000)],
  [DMAR_IEDATA, M(0xffffffff)],
  [DMAR_IEADDR, M(0xfffffffc)],
  [DMAR_IRTA, M(0xfffff80f)],
  [DMAR_IRTA + 4, M(0xffffffff)],
  [DMAR_IVA, M(0xfffff07f, 0, 0xfffff07f)],
  [DMAR_IVA + 4, M(0xffffffff, 0, 0xffffffff)],
  [DMAR_IOTLB + 4, M(0xb003ffff)],
  [DMAR_FRCD + 12, M(0, 0x80000000)],
]);

/** The host address width mask (VTD_HAW_MASK). */
export const hawMask = (aw: number): bigint => (1n << BigInt(aw)) - 1n;

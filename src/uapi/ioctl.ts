// ioctl numbers, computed as include/uapi/asm-generic/ioctl.h does.
//
// iommufd and VFIO both use _IO(';', nr): no direction and no size bits, so the
// number is (';' << 8) | nr and the struct size travels inside the struct.

export const IOC_NRBITS = 8;
export const IOC_TYPEBITS = 8;
export const IOC_SIZEBITS = 14;
export const IOC_NRSHIFT = 0;
export const IOC_TYPESHIFT = IOC_NRSHIFT + IOC_NRBITS;
export const IOC_SIZESHIFT = IOC_TYPESHIFT + IOC_TYPEBITS;
export const IOC_DIRSHIFT = IOC_SIZESHIFT + IOC_SIZEBITS;

export const IOC_NONE = 0;
export const IOC_WRITE = 1;
export const IOC_READ = 2;

export function IOC(dir: number, type: number, nr: number, size: number): number {
  return ((dir << IOC_DIRSHIFT) | (type << IOC_TYPESHIFT) | (nr << IOC_NRSHIFT) | (size << IOC_SIZESHIFT)) >>> 0;
}

export function IO(type: number | string, nr: number): number {
  return IOC(IOC_NONE, typeof type === "string" ? type.charCodeAt(0) : type, nr, 0);
}

export function IOC_NR(cmd: number): number {
  return (cmd >>> IOC_NRSHIFT) & ((1 << IOC_NRBITS) - 1);
}

export function IOC_TYPE(cmd: number): number {
  return (cmd >>> IOC_TYPESHIFT) & ((1 << IOC_TYPEBITS) - 1);
}

/** ';' — shared by iommufd (nr 0x80 and up) and VFIO (nr 100..121). */
export const IOMMUFD_TYPE = ";".charCodeAt(0);
export const VFIO_TYPE = IOMMUFD_TYPE;
export const IOMMUFD_CMD_BASE = 0x80;
export const VFIO_BASE = 100;

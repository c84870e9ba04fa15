// errno values checked against include/uapi/asm-generic/errno-base.h and
// include/uapi/asm-generic/errno.h (x86_64 uses the generic numbers).
import { describe, expect, it } from "vitest";
import { ENOIOCTLCMD, ERRNO, errnoName, errnoValue, isErrnoName } from "../../src/uapi/errno.ts";

describe("errno table (asm-generic/errno-base.h, errno.h)", () => {
  it("gives the header's number for the errnos iommufd and VFIO return", () => {
    const expected: Record<string, number> = {
      EPERM: 1,
      ENOENT: 2,
      EIO: 5,
      ENXIO: 6,
      E2BIG: 7,
      EBADF: 9,
      EAGAIN: 11,
      ENOMEM: 12,
      EACCES: 13,
      EFAULT: 14,
      EBUSY: 16,
      EEXIST: 17,
      ENODEV: 19,
      EINVAL: 22,
      ENOTTY: 25,
      ENOSPC: 28,
      ERANGE: 34,
      EDEADLK: 35,
      ENOSYS: 38,
      ENOMSG: 42,
      EOVERFLOW: 75,
      EBADFD: 77,
      EMSGSIZE: 90,
      EOPNOTSUPP: 95,
      EADDRINUSE: 98,
      ETIMEDOUT: 110,
      ECANCELED: 125,
      EHWPOISON: 133,
    };
    for (const [name, n] of Object.entries(expected)) {
      expect(ERRNO[name], name).toBe(n);
      expect(errnoValue(name), name).toBe(n);
    }
  });

  it("knows every canonical name 1..133 except the alias slots 41 and 58", () => {
    for (let n = 1; n <= 133; n++) {
      if (n === 41 || n === 58) expect(errnoName(n), String(n)).toBeUndefined();
      else expect(errnoName(n), String(n)).toMatch(/^E[A-Z0-9]+$/);
    }
    expect(errnoName(0)).toBeUndefined();
    expect(errnoName(134)).toBeUndefined();
  });

  it("maps aliases to their number but names numbers canonically (EOPNOTSUPP, not ENOTSUP)", () => {
    expect(errnoValue("ENOTSUP")).toBe(95);
    expect(errnoValue("EWOULDBLOCK")).toBe(11);
    expect(errnoValue("EDEADLOCK")).toBe(35);
    expect(errnoName(95)).toBe("EOPNOTSUPP");
    expect(errnoName(11)).toBe("EAGAIN");
    expect(errnoName(35)).toBe("EDEADLK");
  });

  it("rejects names that are not errnos, including Object.prototype keys", () => {
    expect(isErrnoName("EBUSY")).toBe(true);
    expect(isErrnoName("ENOTSUP")).toBe(true);
    expect(isErrnoName("EBUSYX")).toBe(false);
    expect(isErrnoName("toString")).toBe(false);
    expect(errnoValue("constructor")).toBeUndefined();
  });

  it("keeps the kernel-internal ENOIOCTLCMD (include/linux/errno.h) out of the user table", () => {
    expect(ENOIOCTLCMD).toBe(515);
    expect(errnoName(515)).toBeUndefined();
    expect(isErrnoName("ENOIOCTLCMD")).toBe(false);
  });
});

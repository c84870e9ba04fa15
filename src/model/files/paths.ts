// Device nodes: which path names which kind of file, and who may open it.

import type { State } from "../state.ts";
import type { Node } from "./state.ts";

/** Resolve a path to the device node it names, or undefined (ENOENT). */
export function resolvePath(s: State, path: string): Node | undefined {
  if (path === "/dev/iommu") return { kind: "iommufd" };
  if (path === "/dev/vfio/vfio") return { kind: "vfio-container" };
  const cdev = /^\/dev\/vfio\/devices\/([^/]+)$/.exec(path);
  if (cdev) {
    const dev = [...s.host.devices.values()].find((d) => d.cdev === cdev[1]);
    return dev ? { kind: "vfio-device", bdf: dev.bdf } : undefined;
  }
  const group = /^\/dev\/vfio\/((?:noiommu-)?)([0-9]+)$/.exec(path);
  if (group) {
    const dev = [...s.host.devices.values()].find((d) => d.groupNode === `${group[1]}${group[2]}`);
    return dev ? { kind: "vfio-group", group: Number(group[2]) } : undefined;
  }
  return undefined;
}

// The root state: one plain object tree, never changed once made. Reducers
// fold a batch into a working copy of the root tables they reach, and the new
// state shares every subtree the batch did not change (src/model/fold.ts):
// cheap checkpoints. Keyed tables are Maps, 64-bit quantities are bigint,
// memory frames are Uint8Array (replaced on write, never written in place).

import type { DmaBuf } from "./dmabuf/state.ts";
import type { Memfd } from "./memfd/state.ts";
import type { DomainState } from "./domain/state.ts";
import type { HostState } from "./host/state.ts";
import type { MemoryState } from "./memory/state.ts";
import type { ProcessState } from "./process/state.ts";
import type { OpenFile } from "./files/state.ts";
import type { IommufdCtx } from "./iommufd/state.ts";
import type { PasidState } from "./pasid/state.ts";
import type { VfioState } from "./vfio/state.ts";
import type { QemuMachine } from "./qemu/state.ts";
import { initialDomains } from "./domain/state.ts";
import { initialHost } from "./host/state.ts";
import { initialMemory } from "./memory/state.ts";
import { initialPasid } from "./pasid/state.ts";
import { initialVfio } from "./vfio/state.ts";

export interface State {
  /** Kernel module parameters as written through sysfs, by "module.name". */
  params: Map<string, string | number | boolean>;
  host: HostState;
  processes: Map<number, ProcessState>;
  /** Open file descriptions, by id; an fd table entry points at one. */
  files: Map<number, OpenFile>;
  nextFileId: number;
  memory: MemoryState;
  /** IOMMU domains, whoever allocated them (src/model/domain/state.ts). */
  domains: DomainState;
  /** iommufd contexts, by the id of their open /dev/iommu file. */
  iommufd: Map<number, IommufdCtx>;
  /** VFIO devices, groups and containers (src/model/vfio/state.ts). */
  vfio: VfioState;
  /** dma-bufs, by the id of their file (src/model/dmabuf/state.ts). */
  dmabufs: Map<number, DmaBuf>;
  /** memfds, by the id of their file (src/model/memfd/state.ts). */
  memfds: Map<number, Memfd>;
  /** Seed 002 PASID allocator, per-process quotas and the audit ledger (src/model/pasid/state.ts). */
  pasid: PasidState;
  /** QEMU machines, by the pid of their process (src/model/qemu/state.ts). */
  qemu: Map<number, QemuMachine>;
}

export function initialState(): State {
  return {
    params: new Map(),
    host: initialHost(),
    processes: new Map(),
    files: new Map(),
    nextFileId: 1,
    memory: initialMemory(),
    domains: initialDomains(),
    iommufd: new Map(),
    vfio: initialVfio(),
    dmabufs: new Map(),
    memfds: new Map(),
    pasid: initialPasid(),
    qemu: new Map(),
  };
}

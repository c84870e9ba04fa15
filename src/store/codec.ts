// msgpack encoding of event payloads, expects and outcomes, and of meta values.
//
// Event columns use msgpackr records with structures shared across the whole file: an
// object's key list is written once (into meta `msgpack_structures`) and each row names
// it by a one- or two-byte id, so a `{pid, fd}` payload is a handful of bytes. A later
// process decodes those rows by loading the same structures, so new structures must be
// persisted in the same transaction as the first rows that use them (TraceDb does that
// with pending()/markSaved()). One writer per file at a time.
//
// Value mapping: numbers stay numbers (integers above 2^32 travel as float64, exact up to
// 2^53), bigint travels as a 64-bit integer and comes back as bigint (-2^63 .. 2^64-1),
// Uint8Array comes back as Uint8Array, Map comes back as a plain object.

import { Packr } from "msgpackr";

/** Key lists of the shared record structures, in id order. */
export type Structures = string[][];

// Beyond this many key shapes, new shapes are written inline in each row (bigger, still
// decodable). Ids past the first 32 cost a second byte.
const MAX_SHARED_STRUCTURES = 1024;

type SharedList = (string[] | undefined)[] & { sharedLength?: number };

export class EventCodec {
  private readonly packr: Packr;
  private saved = 0;

  /** `load` returns the structures currently persisted in the file. */
  constructor(load: () => Structures) {
    this.packr = new Packr({
      useRecords: true,
      int64AsType: "bigint",
      mapsAsObjects: true,
      moreTypes: false,
      // Binary fields get their own bytes rather than a view that would pin a whole
      // chunk of rows read at once.
      copyBuffers: true,
      maxSharedStructures: MAX_SHARED_STRUCTURES,
      // Called lazily on first use, and again when a row names an id this process has
      // not seen (another writer appended since): both read the file.
      getStructures: () => {
        const loaded = load();
        this.saved = loaded.length;
        return loaded;
      },
      // Persisting happens in the caller's transaction; accepting here keeps msgpackr
      // from re-encoding.
      saveStructures: () => true,
    });
  }

  /** The returned bytes stay valid (msgpackr never writes over them) but share a buffer. */
  encode(value: unknown): Uint8Array {
    return this.packr.pack(value);
  }

  decode(bytes: Uint8Array): unknown {
    return this.decodeRange(plain(bytes), 0, bytes.length);
  }

  /**
   * Decodes the one value in bytes[start, end). Many values of one buffer decode much
   * faster than one view each: msgpackr builds a DataView per distinct source array.
   */
  decodeRange(bytes: Uint8Array, start: number, end: number): unknown {
    // msgpackr reads `end: 0` as "to the end of the buffer".
    if (end <= start) throw new Error("empty value");
    return this.packr.unpack(bytes, { start, end });
  }

  /** All shared structures, if some were added since markSaved(); else undefined. */
  pending(): Structures | undefined {
    // msgpackr keeps the structure list on the instance (not in its typings).
    const all = (this.packr as unknown as { structures?: SharedList }).structures;
    const n = all?.sharedLength ?? 0;
    if (all === undefined || n <= this.saved) return undefined;
    return all.slice(0, n).map((keys) => (keys ? [...keys] : []));
  }

  markSaved(structures: Structures): void {
    this.saved = structures.length;
  }
}

/**
 * The same bytes as a plain Uint8Array. Binary fields are sliced from the source, and a
 * Node Buffer source (what SQLite hands out) would make them Buffers.
 */
export function plain(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// Meta values are self-describing (no shared structures), so a file's meta table can be
// read without any other state.
const metaPackr = new Packr({ useRecords: false, int64AsType: "bigint", mapsAsObjects: true, moreTypes: false, copyBuffers: true });

export function encodeMeta(value: unknown): Uint8Array {
  return metaPackr.pack(value);
}

export function decodeMeta(bytes: Uint8Array): unknown {
  return metaPackr.unpack(plain(bytes));
}

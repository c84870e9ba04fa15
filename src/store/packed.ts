// The packed form of a range of events, TraceDb's fast read: one statement
// returns a whole range as three values, the row count, a text of per-row
// fields and the rows' bytes concatenated, instead of a JS array per row and
// a Buffer per blob (which cost more than everything else in reading an event:
// docs/decisions.md, "Replay cost").
//
// Per row, the text holds "payloadLen,expectLen,outcomeLen,opLen,op" (lengths in bytes,
// -1 for NULL) and the bytes hold payload, expect, outcome, hash: every column the chain
// covers, so a read checks all of them even when it decodes only some. Hashes are 8
// bytes: one of any other length throws the framing off, which the chain check or the
// final length catches.

/** Integer fields per row of the text, before the op. */
export const FIELDS_PER_ROW = 4;

const FIELDS =
  "octet_length(payload) || ',' || ifnull(octet_length(expect), -1) || ',' || ifnull(octet_length(outcome), -1) || ',' || octet_length(op) || ',' || op";
// Blobs through TEXT: byte-exact in a UTF-8 database (TraceDb.open checks).
const BYTES = "CAST(payload || ifnull(expect, x'') || ifnull(outcome, x'') || hash AS TEXT)";

/**
 * The statement for events ?1..?2: [rows, text, bytes], rows in seq order. The rowid
 * range is scanned in seq order; the reader checks each row's chain value and the
 * count, and reads the range again row by row if anything does not check out.
 */
export const PACKED_RANGE = `SELECT count(*), group_concat(${FIELDS}, ''), CAST(group_concat(${BYTES}, '') AS BLOB) FROM events WHERE seq BETWEEN ? AND ?`;

/** Op lengths are in bytes: the packed text is read only when its ops are printable ASCII. */
export const NOT_PRINTABLE = /[^\x20-\x7e]/;

/**
 * Reads `count` comma-terminated integers at text[at] into `num`; the position
 * after them, or -1 when the text does not hold them there.
 */
export function readFields(text: string, at: number, num: Int32Array, count: number): number {
  for (let f = 0; f < count; f++) {
    let c = text.charCodeAt(at);
    const neg = c === 45; // '-'
    if (neg) c = text.charCodeAt(++at);
    let v = 0;
    let digits = 0;
    while (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      digits++;
      c = text.charCodeAt(++at);
    }
    if (digits === 0 || c !== 44) return -1; // ','
    num[f] = neg ? -v : v;
    at++;
  }
  return at;
}

/**
 * Op names as one string object each: a trace has a few distinct ops, so each
 * event's op is found among them (no string made per event) and property
 * lookups by it (the reducer table) hit V8's caches.
 */
export class OpNames {
  private readonly known: string[] = [];

  /** The op text[at, at + length). */
  intern(text: string, at: number, length: number): string {
    const known = this.known;
    for (let i = 0; i < known.length; i++) {
      const op = known[i]!;
      if (op.length === length && text.startsWith(op, at)) return op;
    }
    const op = text.slice(at, at + length);
    if (known.length < 256) known.push(op);
    return op;
  }
}

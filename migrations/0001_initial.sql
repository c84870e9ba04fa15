-- 0001_initial: the first iorr trace schema.
--
-- meta         key/value pairs, values msgpack-encoded (plain, no shared records):
--              format ('iorr-trace'), version (trace format, 1), header (the JSONL
--              header object), count (events in the log), head (hash of the last
--              event), msgpack_structures (shared record structures used by the
--              event columns), plus profile and other metadata set by tools.
-- events       the log, seq from 1 without gaps. payload/expect/outcome are msgpack
--              with the shared structures; hash is the 8-byte chain value of
--              src/store/hash.ts over (previous hash, seq, op, payload, expect).
-- checkpoints  replay states per profile key: chain is the event hash at seq (so a
--              checkpoint from another log is detected), sum the hash64 of state.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value BLOB
);

CREATE TABLE events (
  seq     INTEGER PRIMARY KEY,
  op      TEXT NOT NULL,
  payload BLOB NOT NULL,
  expect  BLOB,
  outcome BLOB,
  hash    BLOB NOT NULL
);

CREATE TABLE checkpoints (
  profile TEXT NOT NULL,
  seq     INTEGER NOT NULL,
  chain   BLOB NOT NULL,
  state   BLOB NOT NULL,
  sum     BLOB NOT NULL,
  PRIMARY KEY (profile, seq)
);

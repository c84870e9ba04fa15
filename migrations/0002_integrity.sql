-- 0002_integrity: every byte that decides a replay is checked.
--
-- meta.sum     hash64 (src/store/hash.ts) of the key in UTF-8, one zero byte, then the
--              value: a changed header, structure table, event count or head hash is
--              refused naming its key. NULL is never valid.
-- events.hash  the chain now also covers the stored outcome (src/store/hash.ts, step 6).
--              Rows of a schema 1 file are verified under the old chain and re-chained
--              in this migration's transaction by src/store/upgrade.ts, which also
--              updates meta 'head', the checkpoints' chain values and every meta sum.
-- checkpoints.sum  now hash64 of the profile key, one zero byte, then the state (it was the
--              state's alone), so a checkpoint cannot change profile unseen.
-- meta 'incomplete' marks a file still being built (TraceDb.create); a file that
--              carries it was left by an interrupted import and is never read as a trace.

ALTER TABLE meta ADD COLUMN sum BLOB;

// Write a synthetic trace of n simple events as JSONL:
//   node --import tsx tools/gen/simple-trace.ts -n 1000000 -o /tmp/simple.jsonl
// Progress on a terminal; the file appears only when complete.

import { closeSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { eventToJson } from "../../src/trace/jsonl.ts";
import { progressBar } from "../../src/cli/progress.ts";
import { simpleEvents } from "./simple.ts";

const args = process.argv.slice(2);
const n = Number(args[args.indexOf("-n") + 1] ?? "1000");
const out = args.includes("-o") ? args[args.indexOf("-o") + 1]! : "";
if (!Number.isInteger(n) || n < 0 || !out) {
  process.stderr.write("usage: tools/gen/simple-trace.ts -n N -o out.jsonl\n");
  process.exit(2);
}
const tmp = `${out}.tmp-${process.pid}`;
const fd = openSync(tmp, "w");
const bar = progressBar("generate", true);
try {
  writeSync(
    fd,
    `${JSON.stringify({ format: "iorr-trace", version: 1, profile: "linux-6.19", title: `${n} simple system calls`, source: "synthetic", seed: 0 })}\n`,
  );
  const events = simpleEvents(n);
  let buf = "";
  events.forEach((ev, i) => {
    buf += `${JSON.stringify(eventToJson(ev))}\n`;
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = "";
      bar.update(i + 1, n);
    }
  });
  writeSync(fd, buf);
  closeSync(fd);
  renameSync(tmp, out);
} catch (e) {
  rmSync(tmp, { force: true });
  throw e;
} finally {
  bar.done();
}

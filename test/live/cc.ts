// The C programs of test/live: built with the machine's cc as a user's program would be
// (iorr live needs the same compiler for its shim); without one the tests are skipped.
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";

const cc = process.env.CC || "cc";
export const haveCc = spawnSync(cc, ["--version"]).status === 0;

/** test/live/<name>.c built into dir/<name>; its path. Throws with cc's messages when it does not build. */
export function buildC(name: string, dir: string): string {
  const exe = join(dir, name);
  const r = spawnSync(cc, ["-O2", "-Wall", "-o", exe, resolve(`test/live/${name}.c`)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cc failed on test/live/${name}.c: ${r.stderr}`);
  return exe;
}

// Builds build/iorr_shim.so, the LD_PRELOAD shim of `iorr live` (src/live/shim/iorr_shim.c),
// and build/iorr_rec.so, the same source with -DIORR_RECORD=1 (`iorr record -- <command>`),
// with the C compiler that building better-sqlite3 already needs: `cc -O2 -shared -fPIC`.
// Run by `npm ci` (the prepare script) and by `iorr live` when the library is missing or
// older than its source. Plain JavaScript: it runs before anything is built.
//
// At install a missing compiler is a message, not a failed install: everything but
// `iorr live` works without the shim. `node tools/build_shim.mjs --strict` fails instead.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/[\\/]$/, "");
export const SHIM_SOURCE = "src/live/shim/iorr_shim.c";
export const SHIM_LIBRARY = "build/iorr_shim.so";
export const RECORD_LIBRARY = "build/iorr_rec.so";

/** Are both built libraries there and newer than their source? */
export function shimFresh(root = ROOT) {
  const src = statSync(`${root}/${SHIM_SOURCE}`).mtimeMs;
  return [SHIM_LIBRARY, RECORD_LIBRARY].every((l) => existsSync(`${root}/${l}`) && statSync(`${root}/${l}`).mtimeMs >= src);
}

/**
 * Compile both shims (each written under a temporary name, then renamed into place). Returns
 * the live shim's path, or throws an Error whose message says what is missing.
 */
export function buildShim(root = ROOT) {
  compile(root, RECORD_LIBRARY, ["-DIORR_RECORD=1"]);
  return compile(root, SHIM_LIBRARY, []);
}

function compile(root, library, defines) {
  const cc = process.env.CC || "cc";
  mkdirSync(`${root}/build`, { recursive: true });
  const tmp = `${root}/${library}.${process.pid}.tmp`;
  const args = ["-O2", "-shared", "-fPIC", "-Wall", "-Wno-nonnull-compare", ...defines, "-o", tmp, `${root}/${SHIM_SOURCE}`, "-ldl", "-lpthread"];
  const r = spawnSync(cc, args, { encoding: "utf8" });
  if (r.error) {
    const why = r.error.code === "ENOENT" ? `no C compiler "${cc}" on PATH (install gcc or set CC)` : r.error.message;
    throw new Error(`cannot build ${library}: ${why}`);
  }
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`cannot build ${library}: ${cc} exited with status ${r.status}\n${r.stderr}`);
  }
  renameSync(tmp, `${root}/${library}`);
  return `${root}/${library}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    buildShim();
  } catch (e) {
    process.stderr.write(`iorr: ${e.message}\n`);
    process.stderr.write("iorr: `iorr live` needs it; everything else works without it. Build it later with: npm run build:shim\n");
    if (process.argv.includes("--strict")) process.exitCode = 1;
  }
}

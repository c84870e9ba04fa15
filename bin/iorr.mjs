#!/usr/bin/env node
// The iorr command. It runs dist/iorr.mjs, the sources bundled by tools/build.mjs, but only
// when the bundle's recorded hash is the hash of the sources on disk now; otherwise it
// rebuilds the bundle first (a fresh clone, `npm ci --ignore-scripts`, an edit, a checkout
// by git bisect). If it cannot build (no esbuild, a read-only checkout, a source esbuild
// rejects), or IORR_NO_BUNDLE=1, it runs the TypeScript sources through tsx, as before the
// bundle existed. Either way the command and the working tree never disagree.
import { BUNDLE, build, bundleHash, sourceHash } from "../tools/build.mjs";

const root = new URL("../", import.meta.url);

async function loadMain() {
  if (process.env.IORR_NO_BUNDLE !== "1") {
    try {
      const hash = sourceHash();
      if (bundleHash() !== hash) await build(undefined, hash);
      return (await import(new URL(BUNDLE, root).href)).main;
    } catch (e) {
      // The sources are what the bundle would have been built from, and tsx reports a source
      // that does not compile as well as esbuild would. Said, because it is much slower.
      const first = e?.errors?.[0]; // esbuild's own report: file, line and message
      const why = first ? `${first.location ? `${first.location.file}:${first.location.line}: ` : ""}${first.text}` : String(e?.message ?? e).split("\n")[0];
      process.stderr.write(`iorr: warning: running the sources through tsx (${BUNDLE}: ${why})\n`);
    }
  }
  const { register } = await import("tsx/esm/api");
  register();
  return (await import(new URL("src/cli/main.ts", root).href)).main;
}

const main = await loadMain();
process.exitCode = await main(process.argv.slice(2));

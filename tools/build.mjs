// Builds dist/iorr.mjs: src/cli/main.ts and everything it uses (effect, immer, msgpackr
// tree-shaken) as one ESM file, so that the command loads no TypeScript loader and only the
// parts of effect it calls. Run by `npm ci` (the prepare script) and by bin/iorr.mjs whenever
// the bundle does not match the sources. Plain JavaScript: it runs before anything is built.
//
// The bundle's first line records a content hash of everything it was built from
// (sourceHash); bin/iorr.mjs runs the bundle only when that hash is the hash of the files on
// disk now. See docs/decisions.md, "The command runs a bundle checked against the sources".

import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/[\\/]$/, "");
const ENTRY = "src/cli/main.ts";
export const BUNDLE = "dist/iorr.mjs";
const HEADER = "// iorr bundle sha256:";

// Native addons stay outside: better-sqlite3 loads its .node file relative to its own package,
// and msgpackr's optional msgpackr-extract (a faster string decoder) through
// node-gyp-build-optional-packages, which looks for prebuilds next to itself.
const EXTERNAL = ["better-sqlite3", "msgpackr-extract"];

// msgpackr loads msgpackr-extract with `require` when it exists; an ESM bundle has none, so one is
// made here (otherwise the require would throw, be caught, and leave msgpackr without its
// native decoder, unlike the sources run by tsx).
const BANNER = 'import { createRequire as __iorrCreateRequire } from "node:module";\nconst require = __iorrCreateRequire(import.meta.url);';

/**
 * The files the bundle is made from, relative to root: every file under src/ (so a new or
 * deleted file changes the hash too), the package and TypeScript settings esbuild reads, this
 * script, and npm's record of the installed packages whose code is inlined. Paths are joined
 * by hand: node:path's functions cost more than the reads here, and this runs on every command.
 */
function inputs(root) {
  const src = [];
  const walk = (dir) => {
    for (const d of readdirSync(`${root}/${dir}`, { withFileTypes: true })) {
      if (d.isDirectory()) walk(`${dir}/${d.name}`);
      else if (d.isFile()) src.push(`${dir}/${d.name}`);
    }
  };
  walk("src");
  return [...src.sort(), "package.json", "tsconfig.json", "tools/build.mjs", "node_modules/.package-lock.json"];
}

/** SHA-256 over each input's path, length and content (an absent file hashes as absent). */
export function sourceHash(root = ROOT) {
  const h = createHash("sha256");
  for (const f of inputs(root)) {
    let data;
    try {
      data = readFileSync(`${root}/${f}`);
    } catch (e) {
      if (e.code !== "ENOENT") throw e;
    }
    h.update(`${f}\0${data ? data.length : "absent"}\0`);
    if (data) h.update(data);
  }
  return h.digest("hex");
}

/** The hash the bundle at root says it was built from, or undefined (no bundle, or not one of ours). */
export function bundleHash(root = ROOT) {
  let fd;
  try {
    fd = openSync(`${root}/${BUNDLE}`, "r");
  } catch (e) {
    if (e.code === "ENOENT") return undefined;
    throw e;
  }
  try {
    const buf = Buffer.alloc(HEADER.length + 64);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const line = buf.toString("latin1", 0, n);
    return line.startsWith(HEADER) ? line.slice(HEADER.length) : undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * A bundled module's import.meta.url is the bundle's. Sources that find files relative to
 * themselves (src/store/migrations.ts finds migrations/) get their own file's URL instead,
 * expressed relative to the bundle so that the checkout can move.
 */
function sourceUrls(root) {
  const outDir = join(root, dirname(BUNDLE));
  return {
    name: "iorr-source-urls",
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        const text = readFileSync(args.path, "utf8");
        if (!text.includes("import.meta.url")) return undefined;
        const rel = relative(outDir, args.path).split(sep).join("/");
        return { contents: text.replaceAll("import.meta.url", `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: "ts" };
      });
    },
  };
}

/**
 * Build the bundle and put it in place atomically: written to a file of this process's own,
 * then renamed over dist/iorr.mjs, so a concurrent reader sees the old bundle or the new one,
 * never a part. Two processes building at once each rename a complete bundle; the last wins.
 * `hash` is taken before esbuild reads the sources: a file edited during the build leaves a
 * bundle whose header no longer matches, which the next run rebuilds.
 */
export async function build(root = ROOT, hash = sourceHash(root)) {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [ENTRY],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: EXTERNAL,
    banner: { js: BANNER },
    // Whitespace and syntax only: a smaller file compiles faster (startup 2.41x -> 2.28x
    // node -e 0), and identifiers keep their names, so an internal error's stack still names
    // the functions (mangling them too gained only 2.23x).
    minifyWhitespace: true,
    minifySyntax: true,
    plugins: [sourceUrls(root)],
    write: false,
    logLevel: "silent",
  });
  const text = `${HEADER}${hash}\n${result.outputFiles[0].text}`;
  const out = join(root, BUNDLE);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return { path: out, bytes: Buffer.byteLength(text), hash };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const t0 = performance.now();
  const { path, bytes } = await build();
  process.stdout.write(`${relative(process.cwd(), path)}: ${(bytes / 1024).toFixed(0)} KiB in ${Math.round(performance.now() - t0)} ms\n`);
}

#!/usr/bin/env node
// npm run selftest:kernel: the Linux kernel's own iommufd selftest
// (tools/testing/selftests/iommu/iommufd.c) run against the model under `iorr live`.
// Documented in docs/selftest.md. Plain JavaScript: it needs only node, apt-get, tar and cc.
//
// 1. Debian's linux-source-7.2 (suite unstable) is downloaded with a PRIVATE apt
//    configuration under the cache dir: its own sources list naming the mirror the machine's
//    apt already uses (read from /etc/apt at run time), its own lists and archives; the
//    system's apt state is only read. libcap-dev's <sys/capability.h> comes the same way.
// 2. Only the files the build needs are extracted into the cache dir (never the repository).
// 3. iommufd is built with cc, the extracted uAPI headers first on the include path.
// 4. It runs under `iorr live -o <session.db>` with test/selftest/prelude.jsonl folded first
//    (the selftest_mock host, kconfig.IOMMUFD_TEST); the TAP output gives the per-case results,
//    written to test/selftest/results.json, and the session is exported to
//    test/selftest/session.jsonl.gz, which CI replays with --verify.
//
// Options: --cache DIR (default $XDG_CACHE_HOME/iorr or ~/.cache/iorr), --run-dir DIR (where
// the session and the output go; default <cache>/selftest-run), --no-save (print only),
// -- args... (passed to the selftest binary, e.g. -f iommufd_ioas).

import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/[\\/]$/, "");
const VERSION = "7.2";
const PACKAGE = `linux-source-${VERSION}`;
/** What the build of iommufd.c needs from the kernel tree (found by building it). */
const KERNEL_FILES = [
  "tools/testing/selftests/iommu/*",
  "tools/testing/selftests/kselftest.h",
  "tools/testing/selftests/kselftest_harness.h",
  "drivers/iommu/iommufd/iommufd_test.h",
  "include/uapi/linux/iommufd.h",
  "include/uapi/linux/vfio.h",
  "include/uapi/linux/stddef.h",
];
/** uAPI headers installed as usr/include/linux/<name> (headers_install's place), before the system's. */
const UAPI_HEADERS = ["iommufd.h", "vfio.h", "stddef.h"];

function die(msg, code = 1) {
  process.stderr.write(`selftest:kernel: ${msg}\n`);
  process.exit(code);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 28, ...opts });
  if (r.error) die(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0 && !opts.allowFail) die(`${cmd} ${args.join(" ")} failed (status ${r.status}):\n${r.stderr ?? ""}`);
  return r;
}

/** The cache directory: $XDG_CACHE_HOME/iorr, or ~/.cache/iorr. */
export const DEFAULT_CACHE = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "iorr");

/** A selftest binary an earlier run built (the tree it runs in and the binary), or null: nothing is downloaded. */
export function builtSelftest(cache = DEFAULT_CACHE) {
  const tree = join(cache, `linux-${VERSION}`);
  const bin = join(tree, "iommufd");
  return existsSync(join(tree, ".iorr-extracted")) && existsSync(bin) ? { tree, bin } : null;
}

function parseArgs(argv) {
  const o = { cache: DEFAULT_CACHE, save: true, extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      o.extra = argv.slice(i + 1);
      break;
    }
    if (a === "--cache" && argv[i + 1]) o.cache = argv[++i];
    else if (a === "--run-dir" && argv[i + 1]) o.runDir = argv[++i];
    else if (a === "--no-save") o.save = false;
    else die(`unknown argument ${a} (usage: npm run selftest:kernel -- [--cache DIR] [--run-dir DIR] [--no-save] [-- selftest args])`, 2);
  }
  return o;
}

/** The Debian mirror the machine's apt uses (deb822 URIs: or one-line deb entries), read now. */
function debianMirror() {
  const files = [];
  if (existsSync("/etc/apt/sources.list")) files.push("/etc/apt/sources.list");
  const dir = "/etc/apt/sources.list.d";
  if (existsSync(dir)) for (const f of readdirSync(dir).sort()) if (/\.(list|sources)$/.test(f)) files.push(join(dir, f));
  for (const f of files) {
    const text = readFileSync(f, "utf8");
    for (const m of text.matchAll(/^\s*URIs:\s*(\S+)/gm)) if (/\/debian\/?$/.test(m[1])) return m[1].replace(/\/$/, "");
    for (const m of text.matchAll(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)) if (/\/debian\/?$/.test(m[1])) return m[1].replace(/\/$/, "");
  }
  die("no Debian mirror (a URI ending in /debian) in the machine's apt sources");
}

/** apt-get with a private configuration: the machine's dpkg status is read, nothing of the system's apt is written. */
function privateApt(cache) {
  const dir = join(cache, "apt");
  for (const d of ["lists/partial", "archives/partial", "cache", "etc", "dl"]) mkdirSync(join(dir, d), { recursive: true });
  const list = join(dir, "etc", "sources.list");
  const keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
  writeFileSync(list, `deb [signed-by=${keyring}] ${debianMirror()} unstable main\n`);
  const opts = [
    `Dir::Etc::SourceList=${list}`,
    "Dir::Etc::SourceParts=/nonexistent",
    `Dir::State::Lists=${join(dir, "lists")}`,
    `Dir::Cache=${join(dir, "cache")}`,
    `Dir::Cache::archives=${join(dir, "archives")}`,
    "Dir::State::status=/var/lib/dpkg/status",
    "Debug::NoLocking=1",
  ].flatMap((o) => ["-o", o]);
  return { dir, apt: (args) => run("apt-get", [...opts, ...args], { cwd: join(dir, "dl") }) };
}

function debIn(dir, name) {
  return readdirSync(dir).find((f) => f.startsWith(`${name}_`) && f.endsWith(".deb"));
}

/** The kernel tree's needed files under cache/linux-7.2, downloaded and extracted once. */
function kernelTree(cache) {
  const tree = join(cache, `linux-${VERSION}`);
  const done = join(tree, ".iorr-extracted");
  if (existsSync(done)) return tree;
  const { dir, apt } = privateApt(cache);
  const dl = join(dir, "dl");
  if (!debIn(dl, PACKAGE) || !debIn(dl, "libcap-dev")) {
    process.stderr.write(`selftest:kernel: apt-get update (private lists, suite unstable) and download ${PACKAGE}, libcap-dev\n`);
    apt(["-q", "update"]);
    apt(["-q", "download", PACKAGE, "libcap-dev"]);
  }
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(tree, { recursive: true });
  const tarball = `./usr/src/${PACKAGE}.tar.xz`;
  const unpack = join(dir, "unpack");
  mkdirSync(unpack, { recursive: true });
  run("sh", ["-c", `dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" "$3"`, "sh", join(dl, debIn(dl, PACKAGE)), unpack, tarball]);
  process.stderr.write(`selftest:kernel: extracting ${KERNEL_FILES.length} paths of ${PACKAGE}\n`);
  run("tar", ["-xJf", join(unpack, tarball), "-C", tree, "--strip-components=1", "--wildcards", ...KERNEL_FILES.map((f) => `${PACKAGE}/${f}`)]);
  rmSync(unpack, { recursive: true, force: true });
  run("sh", ["-c", `dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" ./usr/include/sys/capability.h`, "sh", join(dl, debIn(dl, "libcap-dev")), tree]);
  mkdirSync(join(tree, "usr/include/linux"), { recursive: true });
  for (const h of UAPI_HEADERS) writeFileSync(join(tree, "usr/include/linux", h), readFileSync(join(tree, "include/uapi/linux", h)));
  writeFileSync(done, `${PACKAGE}\n`);
  return tree;
}

/** cc as the selftest Makefile builds it (CFLAGS of iommu/Makefile and lib.mk), against the extracted headers. */
function build(tree) {
  const src = join(tree, "tools/testing/selftests/iommu");
  const bin = join(tree, "iommufd");
  const tmp = `${bin}.${process.pid}`;
  const cc = process.env.CC || "cc";
  run(cc, [
    "-Wall",
    "-O2",
    "-Wno-unused-function",
    "-D_GNU_SOURCE",
    `-I${join(tree, "usr/include")}`,
    `-I${join(src, "..")}`,
    "-o",
    tmp,
    join(src, "iommufd.c"),
    "-l:libcap.so.2",
  ]);
  // Built under a private name, then renamed: a run beside this one never executes a half-written binary.
  renameSync(tmp, bin);
  return bin;
}

/**
 * The harness's TAP output, stdout and stderr as one stream (so in order): `ok N name`,
 * `ok N name # SKIP why`, `not ok N name`; the assertion lines
 * (`# .../file:line:case:Expected ...`) come before the result they explain.
 */
export function parseTap(text) {
  const plan = /^1\.\.(\d+)$/m.exec(text);
  const cases = [];
  let pending = [];
  for (const line of text.split("\n")) {
    const a = /^# (?:\S*\/)?([^/\s:]+:\d+):[^:]+:(.*)$/.exec(line);
    if (a) {
      if (pending.length < 3) pending.push(`${a[1]}: ${a[2].trim()}`);
      continue;
    }
    const m = /^(ok|not ok) (\d+) (\S+)(?:\s+#\s*SKIP\s*(.*))?$/.exec(line);
    if (!m) continue;
    const result = m[4] !== undefined ? "skip" : m[1] === "ok" ? "pass" : "fail";
    const c = { n: Number(m[2]), name: m[3], result };
    if (result === "skip") c.reason = m[4].trim();
    if (result === "fail" && pending.length) c.reason = pending.join(" | ");
    cases.push(c);
    pending = [];
  }
  return { total: plan ? Number(plan[1]) : cases.length, cases };
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const tree = kernelTree(o.cache);
  build(tree);
  const work = o.runDir ?? join(o.cache, "selftest-run");
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const db = join(work, "session.db");
  const iorr = join(ROOT, "bin/iorr.mjs");
  const prelude = join(ROOT, "test/selftest/prelude.jsonl");
  const t0 = Date.now();
  // One file for stdout and stderr: the assertion lines stay before the result they explain.
  const log = join(work, "output.txt");
  const fd = openSync(log, "w");
  run(process.execPath, [iorr, "live", "--platform", prelude, "-o", db, "--", "./iommufd", ...o.extra], {
    cwd: tree,
    allowFail: true,
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  const seconds = (Date.now() - t0) / 1000;
  const text = readFileSync(log, "utf8");
  const { total, cases } = parseTap(text);
  const count = (k) => cases.filter((c) => c.result === k).length;
  const [p, f, s] = [count("pass"), count("fail"), count("skip")];
  process.stdout.write(`iommufd selftest: ${p} passed, ${f} failed, ${s} skipped of ${total}\n`);
  for (const c of cases) if (c.result === "fail") process.stdout.write(`  not ok ${c.n} ${c.name}: ${c.reason ?? "(no assertion line)"}\n`);
  const summary = text.split("\n").filter((l) => l.startsWith("iorr live") || l.startsWith("  "));
  process.stdout.write(`${summary.join("\n")}\n`);
  if (!existsSync(db)) die("iorr live wrote no session");
  if (o.save) {
    const dir = join(ROOT, "test/selftest");
    mkdirSync(dir, { recursive: true });
    const results = { kernel: PACKAGE, total, passed: p, failed: f, skipped: s, seconds: Math.round(seconds), cases };
    writeFileSync(join(dir, "results.json"), `${JSON.stringify(results, null, 1)}\n`);
    // In the repository's formatting (biome), so that the lint passes and a new run shows only what changed.
    run(process.execPath, [join(ROOT, "node_modules/@biomejs/biome/bin/biome"), "format", "--write", join(dir, "results.json")], { allowFail: true });
    // The session (tens of thousands of events: the sweep cases) is kept gzip-compressed.
    const jsonl = join(work, "session.jsonl");
    run(process.execPath, [iorr, "export", db, "-o", jsonl]);
    writeFileSync(join(dir, "session.jsonl.gz"), gzipSync(readFileSync(jsonl), { level: 9 }));
    process.stdout.write("selftest:kernel: wrote test/selftest/results.json and test/selftest/session.jsonl.gz\n");
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();

// The PASID audit as one self-contained HTML page (iorr audit pasid --html):
// inline CSS and SVG, no network resource, no clock. The plot shows the PASIDs
// each process holds over the trace (event seq on x) against its quota; each
// finding is a marker on it, linked both ways with the list of findings.

import type { Finding, PasidAudit, Usage } from "./pasid.ts";

const W = 900;
const H = 320;
const M = { left: 48, right: 16, top: 16, bottom: 36 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** The count held at `seq` (after the event). */
function countAt(u: Usage, seq: number): number {
  let lo = 0;
  let hi = u.seqs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (u.seqs[mid]! <= seq) lo = mid;
    else hi = mid - 1;
  }
  return u.counts[lo]!;
}

/**
 * A step line through (seq, count) as SVG points. More changes than pixel
 * columns: each column keeps the count on entry, its minimum and maximum and
 * the count on leaving, so every peak still shows.
 */
export function stepPoints(u: Usage, events: number, x: (seq: number) => number, y: (n: number) => number): string {
  const pts: string[] = [];
  const add = (sx: number, n: number) => pts.push(`${fmt(sx)},${fmt(y(n))}`);
  let prev = u.counts[0]!;
  add(x(0), prev);
  const columns = new Map<number, { min: number; max: number; last: number; changes: number }>();
  const order: number[] = [];
  for (let i = 1; i < u.seqs.length; i++) {
    const px = Math.round(x(u.seqs[i]!));
    const n = u.counts[i]!;
    const c = columns.get(px);
    if (c) {
      c.min = Math.min(c.min, n);
      c.max = Math.max(c.max, n);
      c.last = n;
      c.changes++;
    } else {
      columns.set(px, { min: Math.min(n, prev), max: Math.max(n, prev), last: n, changes: 1 });
      order.push(px);
    }
    prev = n;
  }
  prev = u.counts[0]!;
  for (const px of order) {
    const c = columns.get(px)!;
    add(px, prev);
    if (c.changes > 1) {
      add(px, c.max);
      add(px, c.min);
    }
    add(px, c.last);
    prev = c.last;
  }
  add(x(Math.max(events, 1)), prev);
  return pts.join(" ");
}

function plot(a: PasidAudit): string {
  const events = Math.max(a.events, 1);
  let top = 1;
  for (const p of a.processes) top = Math.max(top, p.peak, p.quota ?? 0);
  top = Math.ceil(top * 1.1);
  const x = (seq: number) => M.left + (seq / events) * (W - M.left - M.right);
  const y = (n: number) => H - M.bottom - (n / top) * (H - M.top - M.bottom);
  const out: string[] = [];
  out.push(
    `<svg id="plot" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="PASIDs held per process over the trace">`,
  );
  out.push(`<line class="axis" x1="${M.left}" y1="${y(0)}" x2="${W - M.right}" y2="${y(0)}"/>`);
  out.push(`<line class="axis" x1="${M.left}" y1="${y(0)}" x2="${M.left}" y2="${M.top}"/>`);
  for (const t of [0, Math.round(top / 2), top]) out.push(`<text class="tick" x="${M.left - 6}" y="${fmt(y(t) + 4)}" text-anchor="end">${t}</text>`);
  for (const t of [0, Math.round(events / 2), events])
    out.push(`<text class="tick" x="${fmt(x(t))}" y="${H - M.bottom + 16}" text-anchor="middle">${t}</text>`);
  out.push(`<text class="tick" x="${(W + M.left) / 2}" y="${H - 4}" text-anchor="middle">event seq</text>`);
  a.processes.forEach((p, i) => {
    const color = COLORS[i % COLORS.length]!;
    const u = a.usage.processes.get(p.pid)!;
    out.push(`<g class="process" data-pid="${p.pid}">`);
    if (p.quota !== null)
      out.push(
        `<line class="quota" data-pid="${p.pid}" x1="${M.left}" y1="${fmt(y(p.quota))}" x2="${W - M.right}" y2="${fmt(y(p.quota))}" stroke="${color}"><title>pid ${p.pid}: quota ${p.quota}</title></line>`,
      );
    out.push(
      `<polyline class="usage" data-pid="${p.pid}" fill="none" stroke="${color}" points="${stepPoints(u, events, x, y)}"><title>pid ${p.pid}: PASIDs held</title></polyline>`,
    );
    out.push("</g>");
  });
  a.findings.forEach((f, i) => {
    const u = f.pid === null ? undefined : a.usage.processes.get(f.pid);
    const n = u ? countAt(u, f.seq) : 0;
    out.push(
      `<a href="#finding-${i}"><circle id="seq-${f.seq}-${i}" class="finding ${f.kind}" cx="${fmt(x(f.seq))}" cy="${fmt(y(n))}" r="4"><title>event ${f.seq}: ${esc(f.kind)}: ${esc(f.detail)}</title></circle></a>`,
    );
  });
  out.push("</svg>");
  return out.join("\n");
}

function legend(a: PasidAudit): string {
  return a.processes
    .map(
      (p, i) =>
        `<span class="key"><span class="swatch" style="background:${COLORS[i % COLORS.length]}"></span>pid ${p.pid}${p.quota !== null ? ` (quota ${p.quota}, dashed)` : ""}</span>`,
    )
    .join(" ");
}

function table(rows: Record<string, unknown>[], empty: string): string {
  if (rows.length === 0) return `<p>${esc(empty)}</p>`;
  const keys = Object.keys(rows[0]!);
  const cell = (v: unknown) => `<td>${v === null ? "-" : esc(String(v))}</td>`;
  return `<table><thead><tr>${keys.map((k) => `<th>${esc(k)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${keys.map((k) => cell(r[k])).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

function findingItem(f: Finding, i: number): string {
  const who = [f.pid !== null ? `pid ${f.pid}` : "", f.bdf ?? "", f.pasid !== null ? `PASID ${f.pasid}` : ""].filter(Boolean).join(", ");
  return `<li id="finding-${i}" class="${f.kind}"><a href="#seq-${f.seq}-${i}">event ${f.seq}</a> <b>${esc(f.kind)}</b> ${esc(who)}: ${esc(f.detail)}</li>`;
}

/**
 * The page writes what it drew into its own DOM (a headless browser's --dump-dom
 * shows it): run at the end of the body, where getBoundingClientRect lays it out.
 */
const SCRIPT = `
(() => {
  const svg = document.getElementById("plot");
  const box = svg.getBoundingClientRect();
  const lines = [...svg.querySelectorAll("polyline.usage")].filter((l) => l.points.numberOfItems >= 2 && l.getBBox().width > 0);
  const b = document.body;
  b.dataset.svgWidth = String(Math.round(box.width));
  b.dataset.svgHeight = String(Math.round(box.height));
  b.dataset.series = String(lines.length);
  b.dataset.points = lines.map((l) => l.points.numberOfItems).join(",");
  b.dataset.findings = String(document.querySelectorAll("#findings li").length);
  b.dataset.rendered = "1";
})();`;

export function auditHtml(a: PasidAudit, title: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>PASID audit: ${esc(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
th { background: #f4f4f4; }
.axis { stroke: #444; }
.tick { font-size: 11px; fill: #444; }
.quota { stroke-dasharray: 6 4; stroke-width: 1.5; }
.usage { stroke-width: 2; }
circle.finding { fill: #fff; stroke: #000; stroke-width: 1.5; }
.key { margin-right: 1.5em; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: middle; }
li:target { background: #ffeeaa; }
</style>
</head>
<body>
<h1>PASID audit</h1>
<p>${esc(title)}: ${a.events} events; ${a.global.allocated_now} PASIDs allocated at the end, peak ${a.global.peak}.</p>
<h2>PASIDs held per process</h2>
${plot(a)}
<p>${legend(a)}</p>
<h2>Processes</h2>
${table(a.processes as unknown as Record<string, unknown>[], "No process allocated PASIDs.")}
<h2>Devices</h2>
${table(a.devices as unknown as Record<string, unknown>[], "No device used PASIDs.")}
<h2>Findings (${a.findings.length})</h2>
<ol id="findings">
${a.findings.map(findingItem).join("\n")}
</ol>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

// The audit page's plot (src/audit/html.ts): a step line per process whose
// points stay bounded by the pixel columns on a long trace, every peak kept.
import { describe, expect, it } from "vitest";
import { stepPoints } from "../../src/audit/html.ts";
import type { Usage } from "../../src/audit/pasid.ts";

describe("stepPoints", () => {
  it("draws each change as a vertical step at its seq", () => {
    const u: Usage = { seqs: [0, 10, 20], counts: [0, 2, 1] };
    expect(
      stepPoints(
        u,
        40,
        (s) => s,
        (n) => -n,
      ),
    ).toBe("0,0 10,0 10,-2 20,-2 20,-1 40,-1");
  });

  it("100,000 changes over 500 columns: at most 4 points per column, the peak and the trough still drawn", () => {
    const u: Usage = { seqs: [0], counts: [0] };
    for (let i = 1; i <= 100_000; i++) {
      u.seqs.push(i);
      u.counts.push(i === 77_777 ? 999 : i % 7);
    }
    const pts = stepPoints(
      u,
      100_000,
      (s) => (s / 100_000) * 500,
      (n) => n,
    ).split(" ");
    expect(pts.length).toBeLessThanOrEqual(4 * 501 + 2);
    const ys = pts.map((p) => Number(p.split(",")[1]));
    expect(Math.max(...ys)).toBe(999);
    expect(Math.min(...ys)).toBe(0);
  });
});

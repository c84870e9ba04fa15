// tools/fuzz/traces.ts: mutants of the committed traces (dropped, duplicated and
// swapped lines, deleted fields, values replaced by null, [null], {}, "0x", -1, 1.5,
// 2^53+1, 1e300, misspelt and wrong-case keys, cut lines, flipped characters) are
// each ok, a divergence, bad input or a not-modelled fault: never an internal fault
// (a thrown error, a TypeError), and bad input says what is wrong in the trace's terms.
import { describe, expect, it } from "vitest";
import { fuzz, uncleanMessage } from "../../tools/fuzz/traces.ts";

describe("fuzz-traces", () => {
  const rep = fuzz({ seed: 1, count: 3000 });

  it("no mutant of a committed trace is an internal fault", () => {
    expect(rep.count).toBe(3000);
    expect(rep.internal.map((c) => `${c.trace}:${c.line} ${c.what}: ${c.message}`)).toEqual([]);
    // the mutations reach both the parser and the model
    expect(rep.byClass["bad-input"]).toBeGreaterThan(1000);
    expect(rep.byClass.ok + rep.byClass.divergence).toBeGreaterThan(600);
  });

  it('messages show no "[object Object]", "undefined", "NaN" or doubled prefixes', () => {
    expect(rep.unclean.map((c) => `${c.what}: ${c.message}`)).toEqual([]);
    for (const m of ["t.jsonl:2: event 1: field arg: expected [object Object]", "got undefined", "field x: field x: bad", "value NaN"])
      expect(uncleanMessage(m), m).toBe(true);
    expect(uncleanMessage('t.jsonl:2: event 1: field expect.fd: expected an integer, got "x"')).toBe(false);
  });

  it("is deterministic: the seed decides every mutation", () => {
    const again = fuzz({ seed: 1, count: 200 });
    const first = fuzz({ seed: 1, count: 200 });
    expect(again.byMutation).toEqual(first.byMutation);
    expect(fuzz({ seed: 2, count: 200 }).byMutation).not.toEqual(first.byMutation);
  });
});

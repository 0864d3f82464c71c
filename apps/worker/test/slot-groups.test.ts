import { SLOT_COUNT } from "@multisession/session-core";
import { describe, expect, it } from "vitest";
import { MAX_SLOT_GROUPS, slotsOfGroup } from "../src/sweeper/slot-groups.js";

describe("slot groups", () => {
  it.each([1, 3, 16, 1_000, MAX_SLOT_GROUPS])(
    "%i groups cover every slot exactly once, in contiguous ranges",
    (groups) => {
      const all = Array.from({ length: groups }, (_, group) => slotsOfGroup(group, groups));
      expect(all.flat()).toEqual(Array.from({ length: SLOT_COUNT }, (_, slot) => slot));
      const sizes = all.map((slots) => slots.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      for (const slots of all) expect(slots.at(-1)).toBe((slots[0] as number) + slots.length - 1);
    },
  );

  it("16 groups are 1024 slots each, group g from slot 1024 × g", () => {
    expect(slotsOfGroup(0, 16)).toEqual(Array.from({ length: 1_024 }, (_, i) => i));
    expect(slotsOfGroup(15, 16)[0]).toBe(15_360);
  });

  it.each([
    [0, 0],
    [0, MAX_SLOT_GROUPS + 1],
    [16, 16],
    [-1, 16],
    [1.5, 16],
  ])("rejects group %d of %d", (group, groups) => {
    expect(() => slotsOfGroup(group, groups)).toThrow(RangeError);
  });
});

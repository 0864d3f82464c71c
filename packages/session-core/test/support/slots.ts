/** User ids chosen by hash slot, for tests that need many users in one activity shard. */
import { SLOT_COUNT, slotOf } from "../../src/index.js";

/** `count` distinct user ids starting with `tag` whose keys all hash to one slot (found by search: ~1.4 ms per id). */
export function usersInOneSlot(tag: string, count: number): { slot: number; userIds: string[] } {
  const slot = slotOf(tag);
  const userIds: string[] = [];
  for (let n = 0; userIds.length < count; n++) {
    const id = `${tag}-${n.toString(36)}`;
    if (slotOf(id) === slot) userIds.push(id);
  }
  return { slot, userIds };
}

/** Every slot number, 0 to 16383. */
export const ALL_SLOTS: readonly number[] = Array.from({ length: SLOT_COUNT }, (_, slot) => slot);

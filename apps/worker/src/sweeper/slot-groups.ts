/**
 * The sweep's unit of work: the 16384 hash slots (session-core's SLOT_COUNT,
 * one activity shard each) cut into `groups` contiguous ranges, group g being
 * slots [floor(g × 16384 / groups), floor((g + 1) × 16384 / groups)). Every
 * slot is in exactly one group, whatever the number of groups (1 to 1024),
 * and groups differ in size by at most one slot. Replicas agree on the
 * ranges as long as they run with the same SWEEP_SLOT_GROUPS.
 */
import { SLOT_COUNT } from "@multisession/session-core";

export const MAX_SLOT_GROUPS = 1_024;

/** The slots of one group, in order. */
export function slotsOfGroup(group: number, groups: number): number[] {
  if (!Number.isInteger(groups) || groups < 1 || groups > MAX_SLOT_GROUPS) {
    throw new RangeError(`groups must be an integer from 1 to ${MAX_SLOT_GROUPS} (received ${groups})`);
  }
  if (!Number.isInteger(group) || group < 0 || group >= groups) {
    throw new RangeError(`group must be an integer from 0 to ${groups - 1} (received ${group})`);
  }
  const from = Math.floor((group * SLOT_COUNT) / groups);
  const to = Math.floor(((group + 1) * SLOT_COUNT) / groups);
  return Array.from({ length: to - from }, (_, i) => from + i);
}

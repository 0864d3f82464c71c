/**
 * The worker's sweep, narrowed to the slots of the users a test knows: of
 * those slots, the ones whose activity shard holds a due user
 * (`findDueSlots`), each swept (`sweepSlot`) until a step finds no more due,
 * as a sweeper replica does for its slot group. Only session-core's public
 * worker operations.
 */
import { type SessionStore, type SweepStepResult, slotOf } from "@multisession/session-core";

export async function sweepSlotsOf(
  store: SessionStore,
  userIds: Iterable<string>,
  stepLimit = 100,
): Promise<SweepStepResult> {
  const total: SweepStepResult = { usersCleaned: 0, sessionsDeleted: 0, hashesDeleted: 0 };
  const slots = [...new Set([...userIds].map(slotOf))];
  for (const slot of await store.findDueSlots(slots)) {
    for (;;) {
      const step = await store.sweepSlot(slot, stepLimit);
      total.usersCleaned += step.usersCleaned;
      total.sessionsDeleted += step.sessionsDeleted;
      total.hashesDeleted += step.hashesDeleted;
      if (step.usersCleaned < stepLimit) break;
    }
  }
  return total;
}

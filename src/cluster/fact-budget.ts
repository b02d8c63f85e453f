/**
 * How many facts, and how many bytes of them, may wait for the broker's PUBACK at once
 * (docs/scale-out.md). Facts devices cause (state, events, presence, command results) are
 * dropped past the budget and counted: the others catch up with the device's next message, and
 * a device's 64 KiB states cannot pile up. Facts an API call causes (a session revoked, a user or
 * device removed, …) are never dropped: losing one would leave a revoked token's sockets open
 * on another instance, and their rate is an API client's, not a device's.
 */
import type { FactKind } from "./cluster-facts.ts";

const CONTROL: ReadonlySet<FactKind> = new Set<FactKind>([
  "session.revoked",
  "user.removed",
  "user.role_changed",
  "device.added",
  "device.removed",
  "device.renamed",
  "automation.changed",
]);

export interface FactBudgetLimits {
  count: number;
  /** Characters of the encoded facts (their JSON is mostly ASCII). */
  bytes: number;
}

export const DEFAULT_FACT_BUDGET: FactBudgetLimits = { count: 10_000, bytes: 8 * 1024 * 1024 };

export function createFactBudget(limits: FactBudgetLimits = DEFAULT_FACT_BUDGET) {
  let count = 0;
  let bytes = 0;
  return {
    /** Whether a fact of `size` bytes may go out now; if so it holds its share until give(). */
    take(kind: FactKind, size: number): boolean {
      if (!CONTROL.has(kind) && (count >= limits.count || bytes + size > limits.bytes)) return false;
      count++;
      bytes += size;
      return true;
    },
    give(size: number) {
      count--;
      bytes -= size;
    },
    get outstanding() {
      return { count, bytes };
    },
  };
}

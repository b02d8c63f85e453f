/**
 * Wall-clock time in an IANA time zone, from the runtime's Intl data: the offset at an instant,
 * and the instants a wall time names (none in a spring-forward gap, two in a fall-back overlap).
 * "Wall" values are naive epoch milliseconds (local date and time written as if UTC).
 */

export interface Zone {
  readonly name: string;
  /** Milliseconds to add to an instant to get its wall time. */
  offset(instant: number): number;
  wall(instant: number): number;
  /** The instants whose wall time is `wall`, earliest first: 0 in a gap, 2 in an overlap. */
  instants(wall: number): number[];
}

/** The system's zone (what `date` shows), the default when OPENGENIE_TIMEZONE is unset. */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Offsets are whole minutes; a zone's offset never moves by more than this around one wall time. */
const MAX_SHIFT_MS = 3 * 3_600_000;

export function createZone(name: string): Zone {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: name,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  function offset(instant: number): number {
    const seconds = Math.floor(instant / 1000) * 1000;
    const p: Record<string, number> = {};
    for (const part of format.formatToParts(seconds)) {
      if (part.type !== "literal") p[part.type] = Number(part.value);
    }
    const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour! % 24, p.minute!, p.second!);
    return wall - seconds;
  }
  return {
    name,
    offset,
    wall: (instant) => instant + offset(instant),
    instants(wall) {
      const found = new Set<number>();
      // An instant t has wall time `wall` iff t = wall - offset(t); the offsets in force a few
      // hours either side are the only candidates.
      for (const probe of [wall - MAX_SHIFT_MS, wall, wall + MAX_SHIFT_MS]) {
        const t = wall - offset(probe - offset(probe));
        if (t + offset(t) === wall) found.add(t);
      }
      return [...found].sort((a, b) => a - b);
    },
  };
}

/**
 * A zone made on first use. The runtime's time-zone data (ICU) costs about 6 ms and 10 MB of
 * resident memory the first time any `Intl.DateTimeFormat` is built, and a station without time
 * triggers or conditions never needs it (docs/performance.md).
 */
export function lazyZone(name: () => string): Zone {
  let zone: Zone | undefined;
  const get = () => {
    zone ??= createZone(name());
    return zone;
  };
  return {
    get name() {
      return get().name;
    },
    offset: (instant) => get().offset(instant),
    wall: (instant) => get().wall(instant),
    instants: (wall) => get().instants(wall),
  };
}

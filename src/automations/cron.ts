/**
 * Six-field cron (`sec min hour day-of-month month day-of-week`, seconds first, CONTRACT.md
 * section 2) over wall-clock time. Wall times are "naive" epoch milliseconds: the local date and
 * time written as if it were UTC, so the zone (zoned-time.ts) stays out of the field search.
 * Written here rather than taken from a library because the DST rules (next-fire.ts) need the
 * wall-clock search on its own, which cron libraries do not expose.
 */

export interface CronSpec {
  seconds: boolean[];
  minutes: boolean[];
  hours: boolean[];
  days: boolean[];
  months: boolean[];
  weekdays: boolean[];
  /** Day-of-month and day-of-week both restricted: either matches (Vixie cron). */
  dayOr: boolean;
  /** The hour field is `*` (or a step over every hour): the schedule follows real time across DST. */
  everyHour: boolean;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

function parseValue(text: string, min: number, names?: string[]): number {
  const named = names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + min;
  if (!/^\d+$/.test(text)) throw new Error(`"${text}" is not a number`);
  return Number(text);
}

function parseField(field: string, min: number, max: number, names?: string[]): boolean[] {
  const hits = new Array<boolean>(max + 1).fill(false);
  for (const part of field.split(",")) {
    const [range = "", stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`bad step in "${part}"`);
    let lo = min;
    let hi = max;
    if (range !== "*" && range !== "?") {
      const [a = "", b] = range.split("-");
      lo = parseValue(a, min, names);
      hi = b === undefined ? (stepText === undefined ? lo : max) : parseValue(b, min, names);
    }
    if (lo < min || hi > max || lo > hi) throw new Error(`"${part}" is outside ${min}-${max}`);
    for (let v = lo; v <= hi; v += step) hits[v] = true;
  }
  return hits;
}

/** Parses a six-field expression; throws an Error whose message says which field is wrong. */
export function parseCron(expression: string): CronSpec {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new Error(`cron needs 6 fields (sec min hour day month weekday), got ${fields.length}`);
  }
  const [sec, min, hour, dom, mon, dow] = fields as [string, string, string, string, string, string];
  const at = (name: string, parse: () => boolean[]) => {
    try {
      return parse();
    } catch (err) {
      throw new Error(`cron ${name} field: ${(err as Error).message}`);
    }
  };
  const weekdays = at("day-of-week", () => parseField(dow, 0, 7, WEEKDAYS));
  if (weekdays[7]) weekdays[0] = true;
  return {
    seconds: at("seconds", () => parseField(sec, 0, 59)),
    minutes: at("minutes", () => parseField(min, 0, 59)),
    hours: at("hours", () => parseField(hour, 0, 23)),
    days: at("day-of-month", () => parseField(dom, 1, 31)),
    months: at("month", () => parseField(mon, 1, 12, MONTHS)),
    weekdays,
    dayOr: !/^[*?]$/.test(dom) && !/^[*?]$/.test(dow),
    everyHour: /^\*(\/1)?$/.test(hour),
  };
}

function dayMatches(spec: CronSpec, d: Date): boolean {
  const dom = spec.days[d.getUTCDate()]!;
  const dow = spec.weekdays[d.getUTCDay()]!;
  if (spec.dayOr) return dom || dow;
  return dom && dow;
}

/** Five years of wall time: an expression that never matches (30 February) gives up there. */
const SEARCH_LIMIT_MS = 5 * 366 * 86_400_000;

/** The first matching wall time strictly after `afterWall`, or undefined if none within five years. */
export function nextWallTime(spec: CronSpec, afterWall: number): number | undefined {
  let t = Math.floor(afterWall / 1000) * 1000 + 1000;
  const limit = afterWall + SEARCH_LIMIT_MS;
  while (t <= limit) {
    const d = new Date(t);
    const y = d.getUTCFullYear();
    const mo = d.getUTCMonth();
    if (!spec.months[mo + 1]) {
      t = Date.UTC(y, mo + 1, 1);
      continue;
    }
    if (!dayMatches(spec, d)) {
      t = Date.UTC(y, mo, d.getUTCDate() + 1);
      continue;
    }
    if (!spec.hours[d.getUTCHours()]) {
      t = Date.UTC(y, mo, d.getUTCDate(), d.getUTCHours() + 1);
      continue;
    }
    if (!spec.minutes[d.getUTCMinutes()]) {
      t = Date.UTC(y, mo, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes() + 1);
      continue;
    }
    if (!spec.seconds[d.getUTCSeconds()]) {
      t += 1000;
      continue;
    }
    return t;
  }
  return undefined;
}

/** `{at:"HH:MM", days?}` as the cron expression it means. */
export function atToCron(at: string, days?: number[]): string {
  const [h, m] = at.split(":").map(Number) as [number, number];
  return `0 ${m} ${h} * * ${days?.length ? [...new Set(days)].sort().join(",") : "*"}`;
}

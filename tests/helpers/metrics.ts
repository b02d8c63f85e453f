import type { TestStation } from "./test-station.ts";

/**
 * One metric from the station's `GET /metrics` (read from loopback, as a local scraper would):
 * the sum over its series whose labels include `labels`; 0 when none exists yet.
 */
export async function readMetric(
  s: TestStation,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const res = await s.api("/metrics");
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
  let sum = 0;
  for (const line of (await res.text()).split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const series = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => series[key] === value)) sum += Number(match[3]);
  }
  return sum;
}

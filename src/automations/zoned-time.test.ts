import { expect, test } from "bun:test";
import { createZone, lazyZone } from "./zoned-time.ts";

test("a lazy zone asks for its name on first use, once, and answers as the zone itself", () => {
  let asked = 0;
  const lazy = lazyZone(() => {
    asked++;
    return "Europe/Berlin";
  });
  expect(asked).toBe(0);
  const zone = createZone("Europe/Berlin");
  // Around the 2026 spring-forward (29 March, 01:00 UTC) and in a plain summer instant.
  for (const instant of [Date.UTC(2026, 2, 29, 0, 59), Date.UTC(2026, 2, 29, 1, 0), Date.UTC(2026, 6, 1)]) {
    expect(lazy.offset(instant)).toBe(zone.offset(instant));
    expect(lazy.wall(instant)).toBe(zone.wall(instant));
  }
  // 02:30 on 29 March does not exist in Berlin; 02:30 on 25 October happens twice.
  expect(lazy.instants(Date.UTC(2026, 2, 29, 2, 30))).toEqual([]);
  expect(lazy.instants(Date.UTC(2026, 9, 25, 2, 30))).toEqual(zone.instants(Date.UTC(2026, 9, 25, 2, 30)));
  expect(lazy.instants(Date.UTC(2026, 9, 25, 2, 30))).toHaveLength(2);
  expect(lazy.name).toBe("Europe/Berlin");
  expect(asked).toBe(1);
});

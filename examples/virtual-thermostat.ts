#!/usr/bin/env bun
/**
 * An example driver: a virtual thermostat with a setpoint and a temperature that drifts toward
 * it while heating (and back toward the room's 16 °C when not), written with the driver SDK.
 *
 *   opengenie driver token THERMOSTAT            # prints a token, once
 *   bun examples/virtual-thermostat.ts --token <token>
 *
 * It finds the station through <data-dir>/run/station.json (--data-dir, OPENGENIE_DATA_DIR or
 * the default data dir), or takes --url ws://host:port/driver. The token may also come from
 * OPENGENIE_DRIVER_TOKEN; a station with OPENGENIE_DRIVERS_TRUST_LOOPBACK=on needs none.
 * Then: POST /api/devices/<id>/commands {"action":"set_target","params":{"celsius":23}}.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createStationDriver, type DriverOptions } from "../sdk/driver/index.ts";
import { type Clock, createSystemClock, type TimerHandle } from "../src/core/index.ts";

export const THERMOSTAT_ID = "thermostat-1";
const ROOM_CELSIUS = 16;

export interface VirtualThermostatOptions {
  url: string;
  token?: string;
  instanceId?: string;
  /** How often the temperature moves and is reported. */
  tickMs?: number;
  clock?: Clock;
  random?: () => number;
  WebSocket?: DriverOptions["WebSocket"];
}

const round = (celsius: number) => Math.round(celsius * 10) / 10;

export function createVirtualThermostat(options: VirtualThermostatOptions) {
  const clock = options.clock ?? createSystemClock();
  const random = options.random ?? Math.random;
  const driver = createStationDriver({
    url: options.url,
    driverKey: "THERMOSTAT",
    instanceId: options.instanceId ?? "virtual-thermostat",
    name: "Virtual thermostat",
    ...(options.token ? { token: options.token } : {}),
    clock,
    random,
    ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
  });
  const model = { current: 19, target: 21, mode: "heat" as "heat" | "off", heating: false };
  let ticker: TimerHandle | undefined;

  function report() {
    driver.setState(THERMOSTAT_ID, {
      current_celsius: model.current,
      target_celsius: model.target,
      mode: model.mode,
      heating: model.heating,
    });
    driver.setMetrics(THERMOSTAT_ID, [
      { key: "current_celsius", value: model.current, unit: "°C" },
      { key: "heating", value: model.heating },
    ]);
  }

  /**
   * One step of drift: half a degree up toward the setpoint while heating; down by a fifth of a
   * degree when above it (to the setpoint) or switched off (to the room's temperature).
   */
  function tick() {
    const noise = (random() - 0.5) * 0.1;
    const { current, target } = model;
    if (model.mode === "heat" && current < target)
      model.current = round(Math.min(target, current + 0.5 + noise));
    else if (model.mode === "heat" && current > target)
      model.current = round(Math.max(target, current - 0.2 + noise));
    else if (model.mode === "off" && current > ROOM_CELSIUS)
      model.current = round(Math.max(ROOM_CELSIUS, current - 0.2 + noise));
    model.heating = model.mode === "heat" && model.current < target;
    report();
  }

  driver.announce({
    id: THERMOSTAT_ID,
    name: "Virtual thermostat",
    deviceType: "climate",
    manufacturer: "OpenGenie examples",
    model: "VT-1",
    commands: [
      {
        key: "set_target",
        label: "Setpoint",
        payloadSchema: {
          type: "object",
          required: ["celsius"],
          additionalProperties: false,
          properties: { celsius: { type: "number", minimum: 5, maximum: 30 } },
        },
      },
      {
        key: "set_mode",
        label: "Mode",
        payloadSchema: {
          type: "object",
          required: ["mode"],
          additionalProperties: false,
          properties: { mode: { enum: ["heat", "off"] } },
        },
      },
    ],
  });
  driver.onAction(({ command, payload }) => {
    if (command === "set_target") model.target = payload.celsius as number;
    else if (command === "set_mode") model.mode = payload.mode as "heat" | "off";
    else return { success: false, message: `unknown command ${command}` };
    tick();
    return true;
  });

  return {
    driver,
    model,
    tick,
    start() {
      report();
      driver.connect();
      ticker = clock.setInterval(tick, options.tickMs ?? 5000);
    },
    stop() {
      clock.clearInterval(ticker);
      driver.close();
    },
  };
}

/** The running station's driver endpoint, from its run file. */
function stationUrl(dataDir: string | undefined): string {
  const env = process.env;
  const dir =
    dataDir ||
    env.OPENGENIE_DATA_DIR ||
    (env.XDG_DATA_HOME
      ? join(env.XDG_DATA_HOME, "opengenie")
      : join(homedir(), ".local", "share", "opengenie"));
  try {
    const run = JSON.parse(readFileSync(join(dir, "run", "station.json"), "utf8")) as { httpUrl: string };
    return `${run.httpUrl.replace(/^http/, "ws")}/driver`;
  } catch {
    return "ws://127.0.0.1:8080/driver";
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      token: { type: "string" },
      "data-dir": { type: "string" },
      "instance-id": { type: "string" },
      "tick-ms": { type: "string" },
    },
  });
  const url = values.url ?? stationUrl(values["data-dir"]);
  const token = values.token ?? process.env.OPENGENIE_DRIVER_TOKEN;
  const thermostat = createVirtualThermostat({
    url,
    ...(token ? { token } : {}),
    ...(values["instance-id"] ? { instanceId: values["instance-id"] } : {}),
    ...(values["tick-ms"] ? { tickMs: Number(values["tick-ms"]) } : {}),
  });
  const { driver } = thermostat;
  driver.on("registered", ({ driverKey, instanceId }) =>
    console.log(`registered as ${driverKey} ${instanceId} at ${url}; device ${THERMOSTAT_ID}`),
  );
  driver.on("action", (a) => console.log(`action ${a.command} ${JSON.stringify(a.payload)}`));
  driver.on("error", (e) => console.error(`station refused a message: ${e.error} ${e.details.join(" ")}`));
  driver.on("reconnecting", ({ delayMs }) => console.error(`disconnected; reconnecting in ${delayMs} ms`));
  driver.on("replaced", () => {
    console.error("another thermostat with the same instance id took over; exiting");
    process.exit(0);
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      thermostat.stop();
      process.exit(0);
    });
  }
  thermostat.start();
}

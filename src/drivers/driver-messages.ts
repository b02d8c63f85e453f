import type { z } from "zod";
import {
  DRIVER_EVENTS,
  DRIVER_PROTOCOL_VERSION,
  type DriverErrorFrame,
  type DriverEventName,
  type DriverRegisterParams,
  driverDeviceIdSchema,
  driverEventDataSchemas,
  driverEventFrameSchema,
  driverRegisterFrameSchema,
  driverRegisterParamsSchema,
} from "../protocol/index.ts";

/** Why a driver's message was refused: the `reason` label of `opengenie_driver_messages_rejected_total`. */
export type DriverRejectReason =
  | "not_json"
  | "invalid"
  | "unknown_event"
  | "unregistered"
  | "unknown_device"
  | "limit"
  | "rate"
  | "forbidden";

export interface DriverProblem {
  reason: DriverRejectReason;
  code?: DriverErrorFrame["code"];
  error: string;
  details: string[];
}

export type DriverEvent = {
  [E in DriverEventName]: {
    event: E;
    /** The driver's own id for the device. */
    deviceId: string;
    data: z.infer<(typeof driverEventDataSchemas)[E]>;
  };
}[DriverEventName];

export type DriverMessage =
  | { kind: "register"; params: DriverRegisterParams }
  | { kind: "event"; event: DriverEvent }
  | { kind: "problem"; problem: DriverProblem };

/** HOS's error envelope for a problem. */
export function errorFrame(problem: Omit<DriverProblem, "reason">): DriverErrorFrame {
  return {
    ok: false,
    code: problem.code ?? "DRIVER_WS_VALIDATION_ERROR",
    error: problem.error,
    details: problem.details,
    protocolVersion: DRIVER_PROTOCOL_VERSION,
  };
}

const problem = (reason: DriverRejectReason, error: string, ...details: string[]): DriverMessage => ({
  kind: "problem",
  problem: { reason, error, details },
});

function issueLines(error: z.ZodError): string[] {
  return error.issues
    .slice(0, 10)
    .map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message));
}

const isEventName = (e: string): e is DriverEventName => (DRIVER_EVENTS as readonly string[]).includes(e);

/**
 * One text frame from a driver, parsed. Never throws: whatever is wrong comes back as a
 * problem whose messages, for registration, are the ones HOS gives (wiki.haptique.io,
 * troubleshooting), so a driver's author finds them in the HOS documentation.
 */
export function parseDriverMessage(text: string): DriverMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return problem("not_json", "Invalid JSON.", "Send one JSON object per message.");
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    return problem("invalid", "Invalid message.", 'Send a JSON object with "method" or "event".');
  }
  const frame = json as Record<string, unknown>;
  if ("method" in frame) {
    if (frame.method !== "driver.register")
      return problem("invalid", "Unknown method.", "The only method is driver.register.");
    const register = driverRegisterFrameSchema.safeParse(frame);
    if (!register.success)
      return problem("invalid", "Invalid driver.register payload.", "params must be an object.");
    const params = register.data.params ?? {};
    const version = params.protocolVersion ?? register.data.protocolVersion;
    if (version === undefined || version === null)
      return problem(
        "invalid",
        "protocolVersion is required for driver.register.",
        "Set protocolVersion: 1.",
      );
    if (version !== DRIVER_PROTOCOL_VERSION)
      return problem("invalid", "Unsupported protocolVersion.", "Set protocolVersion: 1.");
    const parsed = driverRegisterParamsSchema.safeParse(params);
    if (!parsed.success)
      return problem(
        "invalid",
        "Invalid driver.register payload.",
        ...parsed.error.issues.map((i) => i.message),
      );
    return { kind: "register", params: parsed.data };
  }
  const aliased = driverEventFrameSchema.safeParse(frame);
  if (!aliased.success) return problem("invalid", "Invalid message.", ...issueLines(aliased.error));
  const { event, deviceId, data, requestId } = aliased.data;
  if (typeof event !== "string")
    return problem("invalid", "Missing event.", `Send "event": one of ${DRIVER_EVENTS.join(", ")}.`);
  const name = event.toUpperCase();
  if (!isEventName(name))
    return problem("unknown_event", "Unknown event.", `Send one of ${DRIVER_EVENTS.join(", ")}.`);
  const id = driverDeviceIdSchema.safeParse(deviceId);
  if (!id.success)
    return problem("invalid", `Invalid ${name} message.`, "device_id must be a string of 1-128 chars.");
  const parsedData = driverEventDataSchemas[name].safeParse(data);
  if (!parsedData.success)
    return problem("invalid", `Invalid ${name} data.`, ...issueLines(parsedData.error));
  const result = parsedData.data;
  // Some drivers put the correlation id beside `data` rather than in it.
  if ("success" in result && !result.requestId && typeof requestId === "string" && requestId.length <= 128)
    result.requestId = requestId;
  return { kind: "event", event: { event: name, deviceId: id.data, data: parsedData.data } as DriverEvent };
}

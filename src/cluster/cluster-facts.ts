/**
 * Facts one instance tells the others of the same station (docs/scale-out.md): published on
 * `station/<stationId>/internal/<instanceId>/<kind>`, each authenticated with an HMAC keyed by
 * a key derived from the station's JWT secret, so a device on the same broker cannot forge one.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** Bus events told to the other instances, each with the fact kind it travels as. */
export const RELAYED_EVENTS = {
  "device.state": "device.state",
  "device.status": "device.status",
  "device.event": "device.event",
  "device.added": "device.added",
  "device.removed": "device.removed",
  "device.renamed": "device.renamed",
  "session.revoked": "session.revoked",
  "user.removed": "user.removed",
  "user.role_changed": "user.role_changed",
  "device.command_result": "command.result",
  "automation.changed": "automation.changed",
} as const;

/** Every fact: the relayed events, and the devices an instance has seen (for the presence sweep). */
export type FactKind = (typeof RELAYED_EVENTS)[keyof typeof RELAYED_EVENTS] | "seen";
export const FACT_KINDS: readonly FactKind[] = [...Object.values(RELAYED_EVENTS), "seen"];

/** The body every fact carries besides its data: who sent it, and when. */
export interface FactBody {
  instanceId: string;
  at: number;
  data: Record<string, unknown>;
}

export type DecodedFact =
  | { ok: true; instanceId: string; kind: FactKind; body: FactBody }
  | { ok: false; reason: "topic" | "mac" | "body" };

/** The facts' key: the JWT secret is shared by every instance and never used for this directly. */
export function deriveFactKey(jwtSecret: string): Buffer {
  return createHmac("sha256", jwtSecret).update("opengenie cluster facts v1").digest();
}

export function factTopic(stationId: string, instanceId: string, kind: FactKind): string {
  return `station/${stationId}/internal/${instanceId}/${kind}`;
}

/** Every instance subscribes to this, not shared: each one hears every other's facts. */
export function factFilter(stationId: string): string {
  return `station/${stationId}/internal/+/+`;
}

function mac(key: Buffer, topic: string, json: string): Buffer {
  return createHmac("sha256", key).update(topic).update("\n").update(json).digest();
}

/** `<mac hex>.<json>`: the MAC covers the topic too, so a fact cannot be moved to another kind. */
export function encodeFact(key: Buffer, topic: string, body: FactBody): string {
  const json = JSON.stringify(body);
  return `${mac(key, topic, json).toString("hex")}.${json}`;
}

function isKind(value: string): value is FactKind {
  return (FACT_KINDS as readonly string[]).includes(value);
}

export function decodeFact(key: Buffer, stationId: string, topic: string, payload: Buffer): DecodedFact {
  const parts = topic.split("/");
  if (parts.length !== 5 || parts[0] !== "station" || parts[1] !== stationId || parts[2] !== "internal")
    return { ok: false, reason: "topic" };
  const instanceId = parts[3]!;
  const kind = parts[4]!;
  if (!isKind(kind)) return { ok: false, reason: "topic" };
  const text = payload.toString("utf8");
  const dot = text.indexOf(".");
  if (dot !== 64) return { ok: false, reason: "mac" };
  const given = Buffer.from(text.slice(0, 64), "hex");
  const json = text.slice(65);
  const expected = mac(key, topic, json);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: "mac" };
  let body: unknown;
  try {
    body = JSON.parse(json);
  } catch {
    return { ok: false, reason: "body" };
  }
  const b = body as Partial<FactBody>;
  if (
    typeof b !== "object" ||
    b === null ||
    b.instanceId !== instanceId ||
    typeof b.at !== "number" ||
    typeof b.data !== "object" ||
    b.data === null
  )
    return { ok: false, reason: "body" };
  return { ok: true, instanceId, kind, body: b as FactBody };
}

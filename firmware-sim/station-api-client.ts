/**
 * The two station HTTP calls a fleet needs (CONTRACT.md section 2): register a device and get
 * its one-time MQTT credentials, and delete it again. Responses are parsed, not trusted.
 */
import { zodErrorMessage } from "../src/core/index.ts";
import {
  type CreatedDevice,
  createdDeviceSchema,
  type DeviceCredentials,
  type DeviceType,
  errorBodySchema,
} from "../src/protocol/index.ts";

export type { CreatedDevice, DeviceCredentials };

/** Carries the HTTP status so a fleet can give up at once on a token the station rejects. */
export class StationApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "StationApiError";
  }
}

export interface StationApiClient {
  createDevice(name: string, type: DeviceType): Promise<CreatedDevice>;
  deleteDevice(id: string): Promise<void>;
}

export interface StationApiOptions {
  api: string;
  apiToken: string;
  fetch?: typeof fetch;
}

async function describeFailure(what: string, response: Response): Promise<StationApiError> {
  const text = await response.text().catch(() => "");
  let detail = text.slice(0, 200);
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) detail = `${parsed.data.error.code}: ${parsed.data.error.message}`;
  } catch {}
  const hint =
    response.status === 401 || response.status === 403 ? " (check --api-token: admin role needed)" : "";
  const message = `${what} answered HTTP ${response.status}${detail ? ` ${detail}` : ""}${hint}`;
  return new StationApiError(message, response.status);
}

export function createStationApiClient(options: StationApiOptions): StationApiClient {
  const doFetch = options.fetch ?? fetch;
  const base = options.api.replace(/\/+$/, "");
  const headers = { authorization: `Bearer ${options.apiToken}`, "content-type": "application/json" };
  return {
    async createDevice(name, type) {
      const response = await doFetch(`${base}/api/devices`, {
        method: "POST",
        headers,
        body: JSON.stringify({ name, type }),
      });
      if (response.status !== 201) throw await describeFailure("POST /api/devices", response);
      const parsed = createdDeviceSchema.safeParse(await response.json());
      if (!parsed.success)
        throw new Error(`POST /api/devices: unexpected body: ${zodErrorMessage(parsed.error, "body")}`);
      return parsed.data;
    },
    async deleteDevice(id) {
      const response = await doFetch(`${base}/api/devices/${encodeURIComponent(id)}`, {
        method: "DELETE",
        headers,
      });
      if (!response.ok && response.status !== 404)
        throw await describeFailure(`DELETE /api/devices/${id}`, response);
    },
  };
}

/** mqtt://host:port from credentials, bracketing IPv6 literals. */
export function brokerUrl(credentials: DeviceCredentials): string {
  const host = credentials.mqttHost.includes(":") ? `[${credentials.mqttHost}]` : credentials.mqttHost;
  return `mqtt://${host}:${credentials.mqttPort}`;
}

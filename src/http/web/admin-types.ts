/**
 * Types of the admin endpoints issue 15 adds (pinned in the lead's shapes; their zod schemas
 * land in src/protocol/ with the webapi branch). Types only: nothing here reaches the bundle.
 */
export type Role = "owner" | "admin" | "member" | "guest";
export const ROLES: readonly Role[] = ["owner", "admin", "member", "guest"];

export interface User {
  id: string;
  username: string;
  role: Role;
  createdAt?: number;
}

export interface AccessToken {
  id: string;
  label: string;
  userId: string;
  username: string;
  createdAt: number;
  expiresAt: number | null;
  lastSeenAt: number | null;
}

export interface StationInfo {
  version: string;
  stationId: string;
  runtime: string;
  startedAt: number;
  uptimeMs: number;
  mqtt: { mode: "embedded" | "external"; connected: boolean; host: string; port: number };
  remoteAccess: boolean;
}

export interface DoctorCheck {
  id: string;
  name: string;
  status: "ok" | "warn" | "fail" | "skip";
  detail: string;
  fix?: string;
}

export interface CloudStatus {
  configured: boolean;
  connected: boolean;
  claimed: boolean;
  lastError?: string;
}

export interface ConnectionInfo {
  id: string;
  kind: string;
  remoteAddress: string;
  connectedAt: number;
  principal?: string;
  messagesIn: number;
  messagesOut: number;
  dropped: number;
}

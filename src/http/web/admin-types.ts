/**
 * Types the web app's pages share for endpoints whose schemas live beside their routes (cloud
 * status, connections) and the signed-in user. Types only: nothing here reaches the bundle.
 * The administration endpoints' shapes come from src/protocol/admin-api.ts.
 */
export type Role = "owner" | "admin" | "member" | "guest";
export const ROLES: readonly Role[] = ["owner", "admin", "member", "guest"];

export interface User {
  id: string;
  username: string;
  role: Role;
  createdAt?: number;
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

/**
 * What one `/driver` session may cost the station (docs/security.md, "Driver limits"). The
 * numbers protect a Raspberry Pi: a driver with hundreds of devices stays far below them.
 */
export interface DriverLimits {
  /**
   * Messages per session: burst and sustained rate. A driver replays everything when it
   * (re)connects: three messages per device (discovered, state, metrics), so a burst of 1000
   * lets one with over 300 devices in at once.
   */
  rateCapacity: number;
  ratePerSecond: number;
  /**
   * Characters of one session's messages received but not yet handled (each waits for the
   * previous): memory, not a count, is what a burst of large frames would cost.
   */
  maxQueuedChars: number;
  /** Registered instances per driverKey. */
  instancesPerDriver: number;
  /** Open sockets per token (per driverKey), and for all token-less loopback drivers together. */
  socketsPerCredential: number;
  /** Bytes waiting in a socket's send buffer past which frames to it are dropped. */
  sendBufferLimit: number;
  registerTimeoutMs: number;
  heartbeatMs: number;
  pongTimeoutMs: number;
}

export const DEFAULT_DRIVER_LIMITS: DriverLimits = {
  rateCapacity: 1000,
  ratePerSecond: 100,
  maxQueuedChars: 1024 * 1024,
  instancesPerDriver: 32,
  socketsPerCredential: 64,
  sendBufferLimit: 1024 * 1024,
  registerTimeoutMs: 10_000,
  heartbeatMs: 30_000,
  pongTimeoutMs: 10_000,
};

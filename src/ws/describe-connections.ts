import type { AppSocketServer } from "./app-socket-server.ts";
import type { IotSocketServer } from "./iot-socket-server.ts";

/** One list of live sockets with their counters, for `GET /api/connections`. */
export function describeConnections(app: AppSocketServer, iot: IotSocketServer) {
  return [
    ...app.connections().map((c) => ({
      id: c.id,
      kind: "app" as const,
      remoteAddress: c.socket.remoteAddress,
      connectedAt: c.socket.data.connectedAt,
      principal: c.principal.username,
      ...c.stats,
    })),
    ...iot.connections().map(({ deviceId, ...c }) => ({ ...c, kind: "iot" as const, principal: deviceId })),
  ];
}

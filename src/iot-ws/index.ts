export type { IotDeviceCore, IotSocketData, IotSocketServer } from "./iot-socket-server.ts";
export { CLOSE_REPLACED, createIotSocketServer } from "./iot-socket-server.ts";
export type { IotWsModuleDeps } from "./iot-ws-module.ts";
export { createIotWsModule } from "./iot-ws-module.ts";

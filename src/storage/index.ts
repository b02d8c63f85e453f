export type { StationDatabase } from "./open-database.ts";
export { databasePath, openDatabase } from "./open-database.ts";
export type { Database, DeviceRow, EventRow, NewDevice, SessionRow, UserRow } from "./schema.ts";

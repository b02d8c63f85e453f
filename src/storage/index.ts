export type { BackupIdentity } from "./backup.ts";
export { inspectBackup, installBackup, writeBackup } from "./backup.ts";
export type { BatchedWriter, BatchedWriterDeps, StorageStatus } from "./batched-writer.ts";
export { createBatchedWriter } from "./batched-writer.ts";
export type { DevicePatch } from "./device-writes.ts";
export type { StationDatabase } from "./open-database.ts";
export { databasePath, openDatabase } from "./open-database.ts";
export { createPrivateFile, writePrivateFile } from "./private-file.ts";
export type { Database, DeviceRow, EventRow, NewDevice, SessionRow, UserRow } from "./schema.ts";

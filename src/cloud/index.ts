export { createCloudModule } from "./cloud-module.ts";
export { cloudStatus } from "./cloud-status.ts";

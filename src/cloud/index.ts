export { cloudStatus } from "./cloud-status.ts";

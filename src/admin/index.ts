export { type AdminModuleDeps, createAdminModule } from "./admin-module.ts";

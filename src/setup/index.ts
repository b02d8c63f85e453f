export {
  newSetupCode,
  readSetupCode,
  removeSetupCode,
  SETUP_CODE_FILE,
  setupCodePath,
  setupUrl,
  writeSetupCode,
} from "./setup-code.ts";
export { createSetupModule } from "./setup-module.ts";
export type { SetupService, SetupServiceDeps } from "./setup-service.ts";
export { createSetupService } from "./setup-service.ts";

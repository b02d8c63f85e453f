import { StationError, type ZodIssues, zodErrorMessage, zodIssues } from "../core/index.ts";

type HookResult = { success: true } | { success: false; error: ZodIssues };

/** zod failures at the HTTP edge become VALIDATION_ERROR with the failing fields in `details`. */
export function validationHook(result: HookResult): void {
  if (result.success) return;
  throw new StationError("VALIDATION_ERROR", zodErrorMessage(result.error, "body"), zodIssues(result.error));
}

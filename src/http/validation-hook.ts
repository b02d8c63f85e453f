import { StationError } from "../core/index.ts";

type HookResult =
  | { success: true }
  | { success: false; error: { issues: readonly { path: PropertyKey[]; message: string }[] } };

/** zod failures at the HTTP edge become VALIDATION_ERROR with the failing fields in `details`. */
export function validationHook(result: HookResult): void {
  if (result.success) return;
  const details = result.error.issues.map((i) => ({
    path: i.path.map(String).join("."),
    message: i.message,
  }));
  const first = details[0];
  throw new StationError(
    "VALIDATION_ERROR",
    first ? `${first.path || "body"}: ${first.message}` : "invalid request",
    details,
  );
}

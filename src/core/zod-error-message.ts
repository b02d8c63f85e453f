/**
 * The one way a zod failure becomes words, at every edge (HTTP bodies, `/ws` frames and
 * payloads, device messages, config, CLI flags): each issue as a dotted path and zod's
 * message, and for one line, the first issue as `<path>: <message>`.
 */

/** What zod's errors carry (zod's ZodError and the core `$ZodError` hono hands over alike). */
export interface ZodIssues {
  readonly issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[];
}

/** One issue: `path` dotted ("state.power"), "" when the whole value is wrong. */
export interface IssueSummary {
  path: string;
  message: string;
}

export function zodIssues(error: ZodIssues): IssueSummary[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
}

/**
 * The first issue as one line: `<path>: <message>`, with `subject` (e.g. "body", "payload")
 * for the path when the whole value is wrong, and `label` to name a path the caller's way
 * (a CLI flag for a config key).
 */
export function zodErrorMessage(
  error: ZodIssues,
  subject: string,
  label: (path: string) => string = (path) => path,
): string {
  const [first] = zodIssues(error);
  if (!first) return `${subject}: invalid`;
  return `${first.path ? label(first.path) : subject}: ${first.message}`;
}

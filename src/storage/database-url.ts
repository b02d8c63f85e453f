/** The URL with its password replaced by `***`, for logs, errors and `opengenie doctor`. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/i, "$1***@");
}

/** Whether the station stores in PostgreSQL (a `postgres://` or `postgresql://` URL). */
export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//.test(url);
}

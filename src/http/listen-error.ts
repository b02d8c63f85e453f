/** The one line a user reads when the HTTP port cannot be bound (CONTRACT.md section 1). */
export function explainListenError(err: unknown, host: string, port: number): string {
  if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
    return `port ${port} is in use (HTTP API); pass --port or stop the other process`;
  }
  if ((err as NodeJS.ErrnoException).code === "EACCES") {
    return `no permission to listen on port ${port}; pass --port above 1023 or run as a service`;
  }
  return `cannot listen on ${host}:${port} (${(err as Error).message}); pass --host or --port`;
}

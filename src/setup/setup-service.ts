import { type AuthService, createLoginRateLimiter, tokensEqual } from "../auth/index.ts";
import { type Clock, StationError } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { SetupRequest } from "../protocol/index.ts";
import { newSetupCode, readSetupCode, removeSetupCode, writeSetupCode } from "./setup-code.ts";

export interface SetupServiceDeps {
  auth: AuthService;
  dataDir: string;
  clock: Clock;
  logger: Logger;
}

/** Wrong codes count against the client address and against this one key, like failed sign-ins. */
const LIMIT_KEY = "(setup code)";

/**
 * First run (issue 15): while no user exists the station holds a one-time code; the owner
 * account can be created with it and nothing else, once.
 */
export function createSetupService(deps: SetupServiceDeps) {
  const { auth, dataDir } = deps;
  const limiter = createLoginRateLimiter(deps.clock);
  let code: string | undefined;
  let creating = false;

  /** Once a user exists, by whatever path, the code is useless: forget it and remove its file. */
  function retire() {
    code = undefined;
    removeSetupCode(dataDir);
  }

  return {
    /** Makes (or keeps, across a restart) the code while no user exists; removes it otherwise. */
    async start(): Promise<void> {
      if ((await auth.countUsers()) > 0) return retire();
      code = readSetupCode(dataDir) ?? newSetupCode();
      // `serve` prints it with the URL; a log line here would precede a start that fails.
      writeSetupCode(dataDir, code);
    },

    /** The code, while the station waits for its first account. */
    get code(): string | undefined {
      return code;
    },

    async required(): Promise<boolean> {
      return (await auth.countUsers()) === 0;
    },

    async createOwner(request: SetupRequest, address: string) {
      const taken = () =>
        new StationError("CONFLICT", "this station already has an account; sign in instead");
      if ((await auth.countUsers()) > 0) {
        retire();
        throw taken();
      }
      const wait = limiter.retryAfter(address, LIMIT_KEY);
      if (wait > 0)
        throw new StationError("RATE_LIMITED", "too many wrong setup codes; wait and try again", {
          retryAfterMs: wait,
        });
      const attempt = limiter.attempt(address, LIMIT_KEY);
      if (code === undefined || !tokensEqual(request.code, code))
        throw new StationError(
          "FORBIDDEN",
          "wrong setup code; use the one 'opengenie serve' printed (also in <data-dir>/setup-code)",
        );
      attempt.succeeded();
      // One at a time, checked and claimed with no await between: two right answers racing must
      // not make two owners.
      if (creating) throw taken();
      creating = true;
      try {
        if ((await auth.countUsers()) > 0) throw taken();
        const user = await auth.createUser(request.username, request.password, "owner");
        retire();
        deps.logger.info("owner account created from the setup code", { username: user.username });
        return { id: user.id, username: user.username, role: "owner" as const };
      } finally {
        creating = false;
      }
    },
  };
}

export type SetupService = ReturnType<typeof createSetupService>;

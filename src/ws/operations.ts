import type { z } from "zod";
import type { Role } from "../auth/index.ts";
import type { AppConnection } from "./app-connection.ts";

/** One `/ws` request type: its payload schema, the role it needs, and its handler. */
export interface Operation<S extends z.ZodType = z.ZodType> {
  type: string;
  role: Role;
  payload: S;
  handle(payload: z.infer<S>, conn: AppConnection): unknown | Promise<unknown>;
}

/** Keeps the payload type tied to its schema when declaring an operation. */
export function defineOperation<S extends z.ZodType>(op: Operation<S>): Operation {
  return op as unknown as Operation;
}

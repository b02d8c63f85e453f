import type { z } from "@hono/zod-openapi";
import { errorBodySchema } from "../protocol/index.ts";

export { errorBodySchema };

export const errorResponses = {
  400: { description: "Bad request", content: { "application/json": { schema: errorBodySchema } } },
  401: {
    description: "Missing, expired or revoked token",
    content: { "application/json": { schema: errorBodySchema } },
  },
  403: { description: "Role too weak", content: { "application/json": { schema: errorBodySchema } } },
} as const;

export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { "application/json": { schema } } } as const;
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } } as const;
}

export const security = [{ bearer: [] }];

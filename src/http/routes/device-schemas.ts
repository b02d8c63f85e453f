import { z } from "@hono/zod-openapi";

export const deviceNameSchema = z.string().trim().min(1).max(100);

export const idParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});

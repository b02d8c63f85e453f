import { z } from "zod";
import { deferred } from "./deferred.ts";

/**
 * `GET /api/integrations` (admin): Home Assistant discovery's settings and the integration
 * logins on the embedded broker (`opengenie integration add`). Passwords are never shown again.
 */
export const integrationListSchema = deferred(() =>
  z
    .object({
      homeAssistant: z.object({
        /** `OPENGENIE_HA_DISCOVERY`. */
        enabled: z.boolean(),
        /** `OPENGENIE_HA_PREFIX`. */
        prefix: z.string(),
      }),
      integrations: z.array(z.object({ name: z.string(), username: z.string(), createdAt: z.number() })),
    })
    .meta({ id: "IntegrationList" }),
);
export type IntegrationList = z.infer<typeof integrationListSchema>;

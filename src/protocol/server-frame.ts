import { z } from "zod";
import { errorFrameSchema, resultFrameSchema, systemFrameSchema, welcomeFrameSchema } from "./app-frames.ts";
import { deferred } from "./deferred.ts";
import { pushFrameSchema } from "./push.ts";

/** Any frame the station sends an app on `/ws`. */
export const serverFrameSchema = deferred(() =>
  z.union([welcomeFrameSchema, resultFrameSchema, errorFrameSchema, pushFrameSchema, systemFrameSchema]),
);
export type ServerFrame = z.infer<typeof serverFrameSchema>;

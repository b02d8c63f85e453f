import { z } from "zod";
import { errorFrameSchema, resultFrameSchema, systemFrameSchema, welcomeFrameSchema } from "./app-frames.ts";
import { pushFrameSchema } from "./push.ts";

/** Any frame the station sends an app on `/ws`. */
export const serverFrameSchema = z.union([
  welcomeFrameSchema,
  resultFrameSchema,
  errorFrameSchema,
  pushFrameSchema,
  systemFrameSchema,
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;

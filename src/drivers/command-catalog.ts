import type { default as Ajv, ErrorObject, ValidateFunction } from "ajv";
import { StationError } from "../core/index.ts";
import type { CommandCatalogEntry, DeviceCommand } from "../protocol/index.ts";

/** A driver device's commands, checked against the `payloadSchema` its driver gave each one. */
export interface CommandCatalog {
  readonly commands: DeviceCommand[];
  /** The params to send, or VALIDATION_ERROR naming what is wrong. */
  validate(action: string, params: unknown): Record<string, unknown>;
}

/** Why a driver's catalog was refused, for the error frame the driver gets. */
export class CatalogError extends Error {
  override name = "CatalogError";
}

const MAX_SCHEMA_CHARS = 16 * 1024;

function describe(errors: ErrorObject[] | null | undefined): { message: string; details: unknown } {
  const issues = (errors ?? []).slice(0, 10).map((e) => ({
    path: e.instancePath.replace(/^\//, "").replaceAll("/", ".") || "params",
    message: e.message ?? "is invalid",
  }));
  const first = issues[0];
  return { message: first ? `${first.path} ${first.message}` : "params are invalid", details: issues };
}

/**
 * Compiles command catalogs with Ajv (JSON Schema draft-07, the dialect HOS drivers write).
 * zod's `fromJSONSchema` would avoid a dependency, but it loops forever on a self-referencing
 * `$ref`, and a driver's schema must never be able to hang the station.
 */
export function createCatalogCompiler() {
  let ajv: Ajv | undefined;
  let loading: Promise<void> | undefined;

  /**
   * Loads Ajv when a driver first needs it: importing it and building its meta-schema took
   * about 4 ms of every start, and most stations never see a driver (docs/performance.md).
   */
  function ready(): Promise<void> {
    loading ??= import("ajv").then(({ default: AjvClass }) => {
      // strict: false, as drivers use annotations Ajv does not know; the schema is still checked
      // against the meta-schema, so a malformed one is refused when the device is announced.
      ajv = new AjvClass({ strict: false, allErrors: true, addUsedSchema: false });
    });
    return loading;
  }

  function compileOne(entry: CommandCatalogEntry): ValidateFunction | undefined {
    const schema = entry.payloadSchema;
    if (schema === undefined || schema === null) return undefined;
    if (!ajv) throw new Error("command catalogs compiled before ready() resolved");
    if (JSON.stringify(schema).length > MAX_SCHEMA_CHARS)
      throw new CatalogError(`payloadSchema of ${entry.key} is over ${MAX_SCHEMA_CHARS} characters`);
    let validate: ValidateFunction;
    try {
      validate = ajv.compile(schema);
    } catch (err) {
      throw new CatalogError(
        `payloadSchema of ${entry.key} is not a usable JSON Schema: ${(err as Error).message}`,
      );
    } finally {
      // Ajv keeps every compiled schema by identity; a driver re-announcing new catalogs must
      // not grow that cache, so each is dropped once its validator exists.
      if (typeof schema === "object") ajv.removeSchema(schema);
    }
    try {
      // A schema that refers to itself without consuming data recurses on any input: find out now.
      validate({});
    } catch (err) {
      throw new CatalogError(`payloadSchema of ${entry.key} cannot be evaluated: ${(err as Error).message}`);
    }
    return validate;
  }

  return {
    ready,
    /** Throws CatalogError for a schema that cannot be used; a payloadSchema needs ready() first. */
    compile(deviceName: string, entries: readonly CommandCatalogEntry[]): CommandCatalog {
      const validators = new Map<string, ValidateFunction | undefined>();
      for (const entry of entries) validators.set(entry.key, compileOne(entry));
      const commands = entries.map((e) => ({
        action: e.key,
        ...(e.label ? { label: e.label } : {}),
        ...(e.payloadSchema !== undefined && e.payloadSchema !== null ? { params: e.payloadSchema } : {}),
      }));
      return {
        commands,
        validate(action, params) {
          if (!validators.has(action)) {
            throw new StationError("VALIDATION_ERROR", `${deviceName} has no action "${action}"`, {
              actions: [...validators.keys()],
            });
          }
          const payload = params ?? {};
          if (typeof payload !== "object" || Array.isArray(payload))
            throw new StationError("VALIDATION_ERROR", `${action}: params must be an object`);
          const validate = validators.get(action);
          if (!validate) return payload as Record<string, unknown>;
          let ok: boolean;
          try {
            ok = validate(payload) as boolean;
          } catch {
            // Recursion as deep as the params are nested: refused like any invalid params.
            throw new StationError("VALIDATION_ERROR", `${action}: params are nested too deeply`);
          }
          if (!ok) {
            const { message, details } = describe(validate.errors);
            throw new StationError("VALIDATION_ERROR", `${action}: ${message}`, details);
          }
          return payload as Record<string, unknown>;
        },
      };
    },
  };
}

export type CatalogCompiler = ReturnType<typeof createCatalogCompiler>;

import type * as pulumi from "@pulumi/pulumi";
import { resolveConnection, type ConfigSource } from "../client/config";
import type { InputChecker } from "../inputs/rules";
import { getSession, type AccountSession } from "../session";
import { IncompleteError } from "../reconcile/errors";
import type { Log } from "../reconcile/progress";

/** The only stack config keys the provider reads; captured in `configure`, kept in memory, never in state. */
const CONFIG_KEYS = ["digitalocean:token", "digitalocean:apiEndpoint"] as const;
export type StackConfig = Partial<Record<(typeof CONFIG_KEYS)[number], string>>;

/** @internal What stored shims call in `configure`: part of the shim protocol. */
export function captureConfig(config: ConfigSource): StackConfig {
  const captured: StackConfig = {};
  for (const key of CONFIG_KEYS) {
    const value = config.get(key);
    if (typeof value === "string" && value !== "") captured[key] = value;
  }
  return captured;
}

/**
 * Everything one provider call needs. The session is resolved on first use, so
 * `check` and `diff` (and so `pulumi preview`) work without a token.
 */
export interface CallContext {
  session(): AccountSession;
  log: Log;
}

export function callContext(stackConfig: StackConfig | undefined, label: string): CallContext {
  return {
    session: () => getSession(resolveConnection({ get: (key) => stackConfig?.[key as keyof StackConfig] })),
    log: (message) => console.log(`${label}: ${message}`),
  };
}

/**
 * Pulumi's dynamic-provider server turns an error carrying `id` and `properties`,
 * thrown by create or update alike, into ErrorResourceInitFailed ("resource
 * created but not initialized"): the engine records those properties as the
 * resource's state, and the next `pulumi up` updates it instead of creating it
 * again or keeping the state from before the failed update.
 */
export function asResourceInitFailure<State>(error: unknown, toState: (partial: State) => Record<string, unknown>, id?: string, inputs?: object): unknown {
  if (!(error instanceof IncompleteError)) return error;
  return Object.assign(new Error(error.message), {
    id: id ?? error.id,
    properties: withProvider(toState(error.state as State), inputs),
    reasons: [error.message],
  });
}

/**
 * The server adds the serialized provider (`__provider`) to a successful
 * result's outputs, but not to an init failure's properties. Without it in the
 * stored outputs, the engine's next `read` (refresh) or `delete` (destroy) of
 * the resource fails with "code must be a string, not undefined", so it is
 * copied from the call's inputs here.
 */
function withProvider(properties: Record<string, unknown>, inputs: object | undefined): Record<string, unknown> {
  const provider = (inputs as Record<string, unknown> | undefined)?.__provider;
  return typeof provider === "string" ? { ...properties, __provider: provider } : properties;
}

/** Pulumi stores JSON-like values; an undefined member would fail its serialization. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * What `check` returns. A check result has failures but no warnings, so the
 * checker's warnings are written to the provider's output, which the CLI shows
 * among the diagnostics of `pulumi preview` and `pulumi up`.
 */
export function checkResult(label: string, checker: InputChecker, inputs: Record<string, unknown>): pulumi.dynamic.CheckResult {
  const log = callContext(undefined, label).log;
  for (const warning of checker.warnings) log(warning);
  return { inputs: compact(inputs), failures: checker.failures };
}

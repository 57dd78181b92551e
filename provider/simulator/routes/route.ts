import { badRequest, notFound } from "../errors";
import type { SimState } from "../state";

/** What a handler sees of one request. */
export interface RouteContext {
  params: Record<string, string>;
  url: URL;
  state: SimState;
  /** The simulator's own base URL, for absolute links. */
  baseUrl: string;
  /** `GET /v2/account`'s answer: who the tokens belong to. */
  account: Record<string, unknown>;
  /** The body parsed as JSON; throws 400 bad_request when it is not JSON. */
  json(): unknown;
}

/** A handler's answer; a 204 has no body. */
export interface RouteResult {
  status: number;
  body?: unknown;
}

/** One endpoint, named by its template such as `GET /v2/images/:id`. */
export interface Route {
  template: string;
  /** The token scope the endpoint needs, as DigitalOcean names it (e.g. `image:read`). */
  scope: string;
  handle(ctx: RouteContext): RouteResult;
}

/** A path parameter that must be a positive integer id; anything else is an unknown resource. */
export function intParam(ctx: RouteContext, name: string): number {
  const raw = ctx.params[name];
  if (!/^[1-9][0-9]{0,15}$/.test(raw)) throw notFound();
  return Number(raw);
}

/** The request body as a JSON object, or 400. */
export function jsonObject(ctx: RouteContext): Record<string, unknown> {
  const body = ctx.json();
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest("The request body must be a JSON object.");
  }
  return body as Record<string, unknown>;
}

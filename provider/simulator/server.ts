import { randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiRefusal, badRequest, errorBody, notFound } from "./errors";
import type { ServerContext } from "./context";
import type { SimToken } from "./identity";
import { handleInspection } from "./inspect";
import { matchRoute, type RouteResult } from "./routes";
import { send } from "./respond";

const MAX_BODY_BYTES = 1024 * 1024;

type Headers = Record<string, string>;

/** The node:http request listener: `/_sim` inspection, `/v2` API, 404 elsewhere. */
export function createRequestListener(ctx: ServerContext) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    readBody(req)
      .then((body) => {
        const url = new URL(req.url ?? "/", ctx.baseUrl());
        if (url.pathname === "/_sim" || url.pathname.startsWith("/_sim/")) {
          return handleInspection(ctx, req.method ?? "GET", url, body, res);
        }
        if (url.pathname === "/v2" || url.pathname.startsWith("/v2/")) {
          return handleApi(ctx, req, url, body, res);
        }
        const requestId = randomUUID();
        send(res, 404, errorBody(404, undefined, requestId), { "x-request-id": requestId });
      })
      .catch(() => req.socket.destroy());
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) reject(new Error("body too large"));
      else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** The accepted token the Authorization header carries, if any. */
function bearerOf(header: string | undefined, tokens: readonly SimToken[]): SimToken | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!m) return undefined;
  const given = Buffer.from(m[1]);
  return tokens.find(({ token }) => {
    const expected = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/**
 * One `/v2` request, in DigitalOcean's order plus the injected faults:
 * latency, dropped connection, authentication, storm 429, rate limit, the
 * token's scopes, 5xx,
 * the operation itself, and finally a lost response.
 */
async function handleApi(ctx: ServerContext, req: IncomingMessage, url: URL, rawBody: string, res: ServerResponse): Promise<void> {
  const method = req.method ?? "GET";
  const match = matchRoute(method, url.pathname);
  const entry = ctx.log.begin(method, url, match?.route.template ?? null);
  const requestId = randomUUID();
  const decision = ctx.faults.decide(entry.route);

  if (decision.latencyMs > 0) {
    try {
      await ctx.clock.sleep(decision.latencyMs, ctx.closing);
    } catch {
      req.socket.destroy();
      return;
    }
  }
  if (decision.preempt?.kind === "drop") {
    entry.outcome = "fault:drop";
    req.socket.destroy();
    return;
  }

  const headers: Headers = { "x-request-id": requestId };
  const reply = (status: number, body: unknown, extra: Headers = {}) => {
    entry.status = status;
    send(res, status, body, { ...headers, ...extra });
  };
  const refuse = (status: number, message?: string, extra: Headers = {}) => reply(status, errorBody(status, message, requestId), extra);

  const bearer = bearerOf(req.headers.authorization, ctx.tokens);
  if (!bearer) {
    if (ctx.limiter) Object.assign(headers, ctx.limiter.peek(ctx.tokens[0].token).headers);
    refuse(401);
    return;
  }
  const token = bearer.token;
  if (decision.preempt?.kind === "too-many-requests") {
    entry.outcome = "fault:too-many-requests";
    if (ctx.limiter) Object.assign(headers, ctx.limiter.peek(token).headers);
    refuse(429, undefined, { "retry-after": String(decision.preempt.retryAfterSeconds) });
    return;
  }
  if (ctx.limiter) {
    const limit = ctx.limiter.take(token);
    Object.assign(headers, limit.headers);
    if (limit.retryAfterSeconds !== undefined) {
      entry.outcome = "rate-limited";
      refuse(429, undefined, { "retry-after": String(limit.retryAfterSeconds) });
      return;
    }
  }
  if (match && bearer.scopes && !bearer.scopes.includes(match.route.scope)) {
    refuse(403);
    return;
  }
  if (decision.preempt?.kind === "server-error") {
    entry.outcome = "fault:server-error";
    refuse(decision.preempt.status);
    return;
  }

  const outcome = runRoute(ctx, match, url, rawBody);
  if (decision.loseResponse) {
    // The operation happened; only the answer is lost, as when a connection breaks mid-response.
    entry.outcome = "fault:lost-response";
    entry.status = "error" in outcome ? outcome.error.status : outcome.status;
    req.socket.destroy();
    return;
  }
  if ("error" in outcome) {
    const { status, message, body } = outcome.error;
    if (body) reply(status, { ...body, request_id: requestId });
    else refuse(status, message);
    return;
  }
  reply(outcome.status, outcome.body);
}

/** Runs the handler, turning unexpected exceptions into a 500 refusal so every failure answers with an error body. */
function runRoute(ctx: ServerContext, match: ReturnType<typeof matchRoute>, url: URL, rawBody: string): RouteResult | { error: ApiRefusal } {
  if (!match) return { error: notFound() };
  try {
    return match.route.handle({
      params: match.params,
      url,
      state: ctx.state,
      account: ctx.account,
      baseUrl: ctx.baseUrl(),
      json: () => {
        try {
          return JSON.parse(rawBody);
        } catch {
          throw badRequest(rawBody.trim() === "" ? "The request body is empty; a JSON object is required." : "The request body is not valid JSON.");
        }
      },
    });
  } catch (err) {
    return { error: err instanceof ApiRefusal ? err : new ApiRefusal(500, `Unexpected server-side error: ${(err as Error).message}`) };
  }
}

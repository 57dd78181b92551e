import type { ServerResponse } from "node:http";
import { errorBody } from "./errors";
import { validateFaultConfig } from "./faults";
import { send } from "./respond";
import type { ServerContext } from "./context";

/**
 * `/_sim/...`: the test inspection API. Not DigitalOcean's; no authentication,
 * no rate limiting, no faults, and not logged.
 */
export function handleInspection(ctx: ServerContext, method: string, url: URL, rawBody: string, res: ServerResponse): void {
  const key = `${method} ${url.pathname.replace(/\/$/, "")}`;
  switch (key) {
    case "GET /_sim/requests":
      return send(res, 200, { requests: ctx.log.list() });
    case "GET /_sim/requests/counts":
      return send(res, 200, ctx.log.counts());
    case "DELETE /_sim/requests":
      ctx.log.reset();
      return send(res, 204, undefined);
    case "GET /_sim/clock": {
      // A provider process takes the anchor, or derives it from both readings at once for a clock without one (see anchorOf).
      const wallClockMs = Date.now();
      const clockMs = ctx.clock.now();
      return send(res, 200, { time: new Date(clockMs).toISOString(), clockMs, wallClockMs, scale: ctx.clock.scale, anchorMs: ctx.clock.anchorMs });
    }
    case "GET /_sim/state":
      return send(res, 200, ctx.state.snapshot());
    case "GET /_sim/faults":
      return send(res, 200, { faults: ctx.faults.get() });
    case "PUT /_sim/faults": {
      try {
        ctx.faults.set(validateFaultConfig(JSON.parse(rawBody), ctx.faults.knownRoutes));
      } catch (err) {
        return send(res, 400, errorBody(400, `invalid fault config: ${(err as Error).message}`, "sim"));
      }
      return send(res, 200, { faults: ctx.faults.get() });
    }
    default:
      return send(res, 404, errorBody(404, `unknown inspection endpoint ${key}`, "sim"));
  }
}

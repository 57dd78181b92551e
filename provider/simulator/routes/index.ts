import { accountRoutes } from "./account";
import { imageRoutes } from "./images";
import type { Route } from "./route";
import { tagRoutes } from "./tags";

export type { Route, RouteContext, RouteResult } from "./route";

interface CompiledRoute {
  method: string;
  pattern: RegExp;
  keys: string[];
  route: Route;
}

function compile(route: Route): CompiledRoute {
  const [method, path] = route.template.split(" ");
  const keys: string[] = [];
  const source = path.replace(/:([a-z_]+)/g, (_m, key: string) => {
    keys.push(key);
    return "([^/]+)";
  });
  return { method, pattern: new RegExp(`^${source}/?$`), keys, route };
}

const ROUTES = [...imageRoutes, ...accountRoutes, ...tagRoutes].map(compile);

/** Every `/v2` route template the simulator serves, e.g. `GET /v2/images/:id`. */
export const ROUTE_TEMPLATES: readonly string[] = ROUTES.map((r) => r.route.template);

/** The route for `method` and `path`, with its decoded path parameters, or undefined. */
export function matchRoute(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  for (const c of ROUTES) {
    if (c.method !== method) continue;
    const m = c.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    c.keys.forEach((k, i) => {
      params[k] = safeDecode(m[i + 1]);
    });
    return { route: c.route, params };
  }
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

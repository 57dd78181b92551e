import { notFound } from "../errors";
import { paginate } from "../pagination";
import { intParam, type Route } from "./route";

/** Account-wide actions, Droplets with their backups, and regions. */
export const accountRoutes: Route[] = [
  {
    template: "GET /v2/actions",
    handle: (ctx) => {
      const page = ctx.state.actionPage(ctx.url, ctx.baseUrl);
      return { status: 200, body: { actions: page.items, links: page.links, meta: page.meta } };
    },
  },
  {
    template: "GET /v2/actions/:id",
    handle: (ctx) => {
      const action = ctx.state.action(intParam(ctx, "id"));
      if (!action) throw notFound();
      return { status: 200, body: { action } };
    },
  },
  {
    template: "GET /v2/droplets",
    handle: (ctx) => {
      const page = paginate(ctx.state.listDroplets(), ctx.url, ctx.baseUrl);
      return { status: 200, body: { droplets: page.items, links: page.links, meta: page.meta } };
    },
  },
  {
    template: "GET /v2/droplets/:id",
    handle: (ctx) => ({ status: 200, body: { droplet: ctx.state.dropletView(intParam(ctx, "id")) } }),
  },
  {
    template: "GET /v2/droplets/:id/backups",
    handle: (ctx) => {
      const page = paginate(ctx.state.backups(intParam(ctx, "id")), ctx.url, ctx.baseUrl);
      return { status: 200, body: { backups: page.items, links: page.links, meta: page.meta } };
    },
  },
  {
    template: "GET /v2/droplets/:id/backups/policy",
    handle: (ctx) => ({ status: 200, body: { policy: ctx.state.backupPolicy(intParam(ctx, "id")) } }),
  },
  {
    template: "GET /v2/regions",
    handle: (ctx) => {
      const page = paginate(ctx.state.listRegions(), ctx.url, ctx.baseUrl);
      return { status: 200, body: { regions: page.items, links: page.links, meta: page.meta } };
    },
  },
];

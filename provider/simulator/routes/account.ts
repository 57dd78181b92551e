import { notFound } from "../errors";
import { paginate } from "../pagination";
import { intParam, type Route } from "./route";

/** The token's account, account-wide actions, Droplets with their backups, and regions. */
export const accountRoutes: Route[] = [
  {
    template: "GET /v2/account",
    scope: "account:read",
    handle: (ctx) => ({ status: 200, body: ctx.account }),
  },
  {
    template: "GET /v2/actions",
    scope: "actions:read",
    handle: (ctx) => {
      const page = ctx.state.actionPage(ctx.url, ctx.baseUrl);
      return { status: 200, body: { actions: page.items, links: page.links, meta: page.meta } };
    },
  },
  {
    template: "GET /v2/actions/:id",
    scope: "actions:read",
    handle: (ctx) => {
      const action = ctx.state.action(intParam(ctx, "id"));
      if (!action) throw notFound();
      return { status: 200, body: { action } };
    },
  },
  {
    template: "GET /v2/droplets",
    scope: "droplet:read",
    handle: (ctx) => {
      const page = paginate(ctx.state.listDroplets(), ctx.url, ctx.baseUrl);
      return { status: 200, body: { droplets: page.items, links: page.links, meta: page.meta } };
    },
  },
  {
    template: "GET /v2/droplets/:id",
    scope: "droplet:read",
    handle: (ctx) => ({ status: 200, body: { droplet: ctx.state.dropletView(intParam(ctx, "id")) } }),
  },
  {
    template: "GET /v2/droplets/:id/backups",
    scope: "droplet:read",
    handle: (ctx) => {
      const page = paginate(ctx.state.backups(intParam(ctx, "id")), ctx.url, ctx.baseUrl);
      return { status: 200, body: { backups: page.items, links: page.links, meta: page.meta } };
    },
  },
  {
    template: "GET /v2/droplets/:id/backups/policy",
    scope: "droplet:read",
    handle: (ctx) => ({ status: 200, body: { policy: ctx.state.backupPolicy(intParam(ctx, "id")) } }),
  },
  {
    template: "GET /v2/regions",
    scope: "regions:read",
    handle: (ctx) => {
      const page = paginate(ctx.state.listRegions(), ctx.url, ctx.baseUrl);
      return { status: 200, body: { regions: page.items, links: page.links, meta: page.meta } };
    },
  },
];

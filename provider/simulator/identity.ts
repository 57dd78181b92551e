import { randomUUID } from "node:crypto";

/**
 * Who `GET /v2/account` says the simulator's tokens belong to, as a seed's
 * `account` or `SimulatorOptions.account` sets it. Every part is optional.
 */
export interface SeedAccount {
  /** The user's uuid. Default: a random one. */
  uuid?: string;
  /** The user's email. Default: `sammy@example.com`. */
  email?: string;
  /**
   * The team the tokens were issued in (DigitalOcean issues tokens per team),
   * or null for a user's token outside any team. Default: a team named
   * `Simulated team` with a random uuid, so two simulators are two accounts.
   */
  team?: { uuid: string; name: string } | null;
}

/**
 * A token the simulator accepts and the scopes it was given. Without `scopes`
 * it has full access; with them, a request whose endpoint needs another scope
 * answers 403 `forbidden`, as a custom-scoped token's does.
 */
export interface SimToken {
  token: string;
  /** Like `image:read`, `account:read`; the scope each endpoint needs is DigitalOcean's (its OpenAPI description's). */
  scopes?: readonly string[];
}

/** A SeedAccount with its defaults filled in. */
export type SimAccount = Required<SeedAccount>;

/** `seed` with its defaults filled in, once per simulator. */
export function simAccount(seed: SeedAccount = {}): SimAccount {
  return {
    uuid: seed.uuid ?? randomUUID(),
    email: seed.email ?? "sammy@example.com",
    team: seed.team === undefined ? { uuid: randomUUID(), name: "Simulated team" } : seed.team && { uuid: seed.team.uuid, name: seed.team.name },
  };
}

/** The body of `GET /v2/account`: a team appears only for a team's token. */
export function accountBody(account: SimAccount): Record<string, unknown> {
  return {
    account: {
      droplet_limit: 25,
      floating_ip_limit: 3,
      email: account.email,
      name: "Sammy",
      uuid: account.uuid,
      email_verified: true,
      status: "active",
      status_message: "",
      ...(account.team ? { team: account.team } : {}),
    },
  };
}

const SCOPE = /^[a-z_]+:[a-z_]+$/;

/** Checks a token's declared scopes; throws RangeError naming the offending one. */
export function validateScopes(scopes: readonly string[] | undefined, where: string): void {
  for (const scope of scopes ?? []) {
    if (!SCOPE.test(scope)) throw new RangeError(`${where}: scope ${JSON.stringify(scope)} is not of the form resource:action, like image:read`);
  }
}

import { ApiError } from "../client/errors";
import type { Image } from "../api/types";
import type { AccountSession } from "../session";
import { describeAccount, sameAccount, type AccountIdentity } from "../api/account-identity";
import { UnconfirmedNotFoundError } from "./errors";

/** What state remembers of how an image came to be: the actions this package saw make or copy it. */
export interface ImageEvidence {
  /** Convert or transfer actions on the image, as recorded in state; empty when none is known. */
  actionIds?: readonly (number | null | undefined)[];
}

/**
 * The image, or undefined when it is gone. A 404 alone does not say that: a
 * base URL with a stray path, a proxy, or another team's token answer 404 for
 * images that exist. So a 404 counts as "gone" only when
 * - the resource's state records the account it was made in
 *   (session.recordedAccount) and the token reaches that same account
 *   (AccountSession.account, one `GET /v2/account` per process); a different
 *   account fails, naming both; or else, when there is no recorded account or
 *   the token may not read its account,
 * - the endpoint and token are confirmed to reach an account's images
 *   (AccountSession.confirmAccess, one call per process), and
 * - when state recorded an action on the image, that action is still visible
 *   to the token: DigitalOcean keeps an account's action history after the
 *   image goes, so an unknown action means the token is of another account.
 * Otherwise UnconfirmedNotFoundError, and nothing is concluded.
 */
export async function imageOrGone(session: AccountSession, imageId: number, evidence: ImageEvidence = {}): Promise<Image | undefined> {
  try {
    return await session.images.read(imageId);
  } catch (error) {
    if (!ApiError.isNotFound(error)) throw error;
    await confirmNotFound(session, `image ${imageId}`, evidence);
    return undefined;
  }
}

/**
 * Throws UnconfirmedNotFoundError unless a 404 for `subject` can be trusted
 * (see imageOrGone); resolves when it can.
 */
export async function confirmNotFound(session: AccountSession, subject: string, evidence: ImageEvidence = {}): Promise<void> {
  if (session.recordedAccount && (await reachesRecordedAccount(session, subject, session.recordedAccount))) return;
  const { endpoint, tokenSource } = session.client;
  try {
    await session.confirmAccess();
  } catch (failure) {
    throw new UnconfirmedNotFoundError(
      `DigitalOcean answered 404 for ${subject}, but that is not taken to mean it does not exist: ${endpoint} with the token ` +
        `from ${tokenSource} does not answer DigitalOcean's image listing (${(failure as Error).message}). ` +
        `Check the endpoint (DigitalOcean's is https://api.digitalocean.com, with no path) and the token, then run again; ` +
        `nothing was removed from state`,
      { cause: failure },
    );
  }
  const actionId = evidence.actionIds?.find((id): id is number => typeof id === "number");
  if (actionId === undefined) return;
  try {
    await session.client.getAction(actionId);
  } catch (error) {
    if (!ApiError.isNotFound(error)) throw error;
    throw new UnconfirmedNotFoundError(
      `DigitalOcean answered 404 for ${subject}, and also for action ${actionId} that state records on it: the token from ` +
        `${tokenSource} does not see this account's history, so it is most likely another account's or team's token. ` +
        `Use the token of the account that holds ${subject}; nothing was removed from state. If ${subject} really is gone ` +
        `along with its history, remove the resource from state with \`pulumi state delete <urn>\``,
      { cause: error },
    );
  }
}

/**
 * True when the token reaches `recorded`, so a 404 is that account's word;
 * false when the token may not read its account (the caller falls back to the
 * other evidence). Throws UnconfirmedNotFoundError when it reaches another
 * account, or when the account cannot be read at all.
 */
async function reachesRecordedAccount(session: AccountSession, subject: string, recorded: AccountIdentity): Promise<boolean> {
  const { endpoint, tokenSource } = session.client;
  let current: AccountIdentity | undefined;
  try {
    current = await session.account();
  } catch (failure) {
    throw new UnconfirmedNotFoundError(
      `DigitalOcean answered 404 for ${subject}, but that is not taken to mean it does not exist: ${endpoint} with the token ` +
        `from ${tokenSource} does not answer who the token is (${(failure as Error).message}). Check the endpoint (DigitalOcean's ` +
        `is https://api.digitalocean.com, with no path) and the token, then run again; nothing was removed from state`,
      { cause: failure },
    );
  }
  if (current === undefined) return false;
  if (sameAccount(current, recorded)) return true;
  const wanted = recorded.kind === "team" ? `a token of team "${recorded.name}" (${recorded.uuid})` : `a token of user ${recorded.uuid} outside any team`;
  throw new UnconfirmedNotFoundError(
    `DigitalOcean answered 404 for ${subject}, but the token from ${tokenSource} reaches ${describeAccount(current)}, while state ` +
      `records that this resource was made in ${describeAccount(recorded)}: it is another account's or team's token, and its 404 ` +
      `says nothing about ${subject}. Set ${wanted} there (DigitalOcean issues tokens per team) and run again; nothing was ` +
      `removed from state or deleted`,
  );
}

export { BackupNotFoundError } from "./backup-not-found-error";
export { IncompleteError } from "./incomplete-error";
export { SnapshotDeletedError } from "./snapshot-deleted-error";
export { UnconfirmedNotFoundError } from "./unconfirmed-not-found-error";

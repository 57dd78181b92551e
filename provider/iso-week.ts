/**
 * The ISO 8601 week of `date` in UTC, like `"2026-W48"`: a key that changes
 * once a week, for a {@link BackupVault}'s `rotationKey` or a
 * {@link SnapshotFromBackup}'s `triggers`. Weeks start on Monday, and a week
 * belongs to the year of its Thursday, so `2021-01-01` is in `"2020-W53"`.
 *
 * It suits a weekly backup window on Sunday, the last day of an ISO week: each
 * new week then starts after a backup newer than the last one kept. With a
 * window on another day, a rotation in the days before it finds no newer backup.
 *
 * @example
 * new BackupVault("web-weekly", { dropletId: web.id, rotationKey: isoWeek(new Date()) });
 */
export function isoWeek(date: Date): string {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  // Move to the Thursday of the same ISO week: its year is the week's year.
  day.setUTCDate(day.getUTCDate() + 4 - (day.getUTCDay() || 7));
  const week = Math.ceil(((day.getTime() - Date.UTC(day.getUTCFullYear(), 0, 1)) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

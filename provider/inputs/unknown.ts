/**
 * During `pulumi preview`, an input that depends on a resource not yet created
 * reaches the provider as this sentinel string (anywhere in a nested value).
 * Validation skips it and diff treats it as a possible change.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when the value is, or contains, the preview sentinel. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

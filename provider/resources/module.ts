/** The module part of the type tokens: `pulumi-nodejs:dynamic/do-image-actions:<Name>`. */
export const MODULE = "do-image-actions";

/**
 * Properties registered as `undefined` become the resource's outputs, filled
 * from the provider's state; listing them here keeps each class's list in one place.
 */
export function outputSlots(...names: string[]): Record<string, undefined> {
  return Object.fromEntries(names.map((name) => [name, undefined]));
}

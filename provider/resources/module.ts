/** The module part of the type tokens: `pulumi-nodejs:dynamic/do-image-actions:<Name>`. */
export const MODULE = "do-image-actions";

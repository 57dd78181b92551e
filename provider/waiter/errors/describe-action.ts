import type { Action } from "../../api/types";

/** e.g. `transfer of image 123 to nyc3`, `convert of image 123 in nyc3`. */
export function describeAction(action: Action): string {
  const region = action.region_slug ?? action.region?.slug;
  const target = action.resource_id === null ? action.resource_type : `${action.resource_type} ${action.resource_id}`;
  const where = region === undefined || region === null ? "" : action.type === "transfer" ? ` to ${region}` : ` in ${region}`;
  return `${action.type} of ${target}${where}`;
}

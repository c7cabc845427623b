/**
 * machineId in the browser bundle (src/web/build.ts swaps it in for machine-id.ts): a page has
 * no libqi file to share, so each page is a machine of its own, as a libqi process is by its id.
 */
let cached: string | undefined;

export function machineIdPath(): string {
  return "";
}

export function machineId(): string {
  cached ??= crypto.randomUUID();
  return cached;
}

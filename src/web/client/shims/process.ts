/**
 * The few `process` members shared code touches (method statistics, ServiceInfo.processId),
 * injected by esbuild wherever the browser bundle mentions the global `process`.
 */
export const process = {
  pid: 0,
  env: {} as Record<string, string | undefined>,
  cpuUsage: (_prev?: { user: number; system: number }) => ({ user: 0, system: 0 }),
};

/**
 * Topic and service names a bridge gives qi members: `/qi/<Service>/<member>` unless the
 * mapping names one. ROS (and rosbridge, Foxglove) names allow letters, digits, `_` and `/`
 * only, so anything else in a qi name (ALMemory keys have spaces and dots) becomes `_`.
 */

const UNSAFE = /[^A-Za-z0-9_/]/g;

/** `/qi/ALBattery/charge` for (ALBattery, charge); ALMemory keys keep their `/` levels. */
export function defaultTopic(service: string, member: string): string {
  const parts = [service, ...member.split("/")].filter((p) => p.length > 0).map(nameSegment);
  return `/qi/${parts.join("/")}`;
}

function nameSegment(part: string): string {
  const safe = part.replace(UNSAFE, "_");
  // A ROS name segment may not start with a digit.
  return /^[0-9]/.test(safe) ? `_${safe}` : safe;
}

/** Throws when `name` is not a valid absolute graph name (what a mapping may give). */
export function checkGraphName(name: string, what: string): string {
  if (!/^\/[A-Za-z][A-Za-z0-9_]*(\/[A-Za-z][A-Za-z0-9_]*)*$/.test(name))
    throw new Error(`${what}: "${name}" is not an absolute ROS name (/letters, digits, _ and / only)`);
  return name;
}

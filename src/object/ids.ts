/**
 * Object ids as libqi allocates them (spec §5.7): objects a service hands out take ids from a
 * process-wide counter starting at 3 (1 is the service's main object, 2 is never used);
 * objects a client passes as arguments take ids from a second counter starting at 2^31.
 */
let nextHostedObjectId = 2;
let nextClientObjectId = 0x7fffffff;

export function allocateHostedObjectId(): number {
  nextHostedObjectId = nextHostedObjectId >= 0x7fffffff ? 3 : nextHostedObjectId + 1;
  return nextHostedObjectId;
}

export function allocateClientObjectId(): number {
  nextClientObjectId = nextClientObjectId >= 0xffffffff ? 0x80000000 : nextClientObjectId + 1;
  return nextClientObjectId;
}

export const MAIN_OBJECT_ID = 1;

/**
 * Per-user permissions: which services a user sees, which methods it may call, which signals
 * it may subscribe to, which properties it may write. Rules are patterns with `*` wildcards
 * over `Service` (visibility) or `Service.member`. Deny wins over allow. A user with an entry
 * is denied anything its entry does not allow (an action with no rules at all included); a
 * user without an entry gets the `default` entry; without one, nothing when any user has
 * rules, everything when the configuration names no user.
 */
export type Action = "see" | "call" | "subscribe" | "write" | "register";

export interface RuleSet {
  allow?: string[];
  deny?: string[];
}

export interface UserPermissions {
  /** Services visible (patterns over the service name). */
  services?: RuleSet;
  /** Methods callable (patterns over `Service.method`). */
  call?: RuleSet;
  /** Signals (and property changes) subscribable (`Service.signal`). */
  subscribe?: RuleSet;
  /** Properties writable (`Service.property`). */
  write?: RuleSet;
  /** Services this user may register through the gateway (patterns over the name; needs registration on). */
  register?: RuleSet;
}

export interface PermissionsConfig {
  /** `admin: true`: the user may see every client in the gateway's statistics (/stats.json). */
  users?: Record<string, UserPermissions & { admin?: boolean }>;
  /** Applies to users without an entry of their own (and to anonymous clients). */
  default?: UserPermissions;
}

const KEY: Record<Action, keyof UserPermissions> = {
  see: "services",
  call: "call",
  subscribe: "subscribe",
  write: "write",
  register: "register",
};

export class Permissions {
  private readonly compiled = new Map<string, CompiledUser>();
  private readonly fallback: CompiledUser | undefined;

  constructor(private readonly config: PermissionsConfig | undefined) {
    for (const [user, rules] of Object.entries(config?.users ?? {}))
      this.compiled.set(user, compileUser(rules));
    this.fallback = config?.default ? compileUser(config.default) : undefined;
  }

  /** Is `identity` allowed to do `action` on `target` (`Service` or `Service.member`)? */
  allows(identity: string | undefined, action: Action, target: string): boolean {
    if (!this.config) return true;
    const user = (identity !== undefined ? this.compiled.get(identity) : undefined) ?? this.fallback;
    if (!user) return !this.config.users || Object.keys(this.config.users).length === 0;
    // Members of a hidden service are never reachable, whatever the member rules say.
    if (action !== "see" && action !== "register" && !check(user.services, target.split(".")[0]))
      return false;
    return check(user[KEY[action]], target);
  }

  /**
   * May `identity` see other clients (who is connected, from where)? Users marked `admin: true`;
   * without any permissions configured, every user (each may do everything anyway).
   */
  isAdmin(identity: string | undefined): boolean {
    if (identity === undefined) return false;
    const users = this.config?.users ?? {};
    // Nothing configured for anyone: every user may do everything already.
    if (Object.keys(users).length === 0 && !this.config?.default) return true;
    return Object.hasOwn(users, identity) && users[identity].admin === true;
  }

  canSee(identity: string | undefined, service: string): boolean {
    return this.allows(identity, "see", service);
  }
}

interface CompiledRules {
  allow: RegExp[];
  deny: RegExp[];
  present: boolean;
}

type CompiledUser = Record<keyof UserPermissions, CompiledRules>;

function compileUser(rules: UserPermissions): CompiledUser {
  return {
    services: compileRules(rules.services),
    call: compileRules(rules.call),
    subscribe: compileRules(rules.subscribe),
    write: compileRules(rules.write),
    register: compileRules(rules.register),
  };
}

function compileRules(r: RuleSet | undefined): CompiledRules {
  return {
    allow: (r?.allow ?? []).map(pattern),
    deny: (r?.deny ?? []).map(pattern),
    present: r !== undefined,
  };
}

function check(rules: CompiledRules, target: string): boolean {
  if (rules.deny.some((re) => re.test(target))) return false;
  // A user with rules is denied whatever they do not allow (default deny).
  return rules.present && rules.allow.some((re) => re.test(target));
}

/** `ALText*` → /^ALText.*$/; `*` matches any run of characters, including dots. */
export function pattern(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

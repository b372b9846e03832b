// The policy: Ironic's defaults (rules.ts) overridden by the operator's YAML file, compiled once.
// `allowed` answers one rule for one identity and target; an unknown rule is denied.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { AuthConfig } from '../../../../common/config.ts';
import { InvalidInput } from '../../../../common/errors.ts';
import type { Logger } from '../../../../common/logger.ts';
import { policyCredentials, type Identity } from '../identity.ts';
import { parseCheck, type Check, type CheckContext, type Target } from './checks.ts';
import { RULE_DEFAULTS, type Scope } from './rules.ts';

interface CompiledRule { check: Check; text: string; scopes: readonly Scope[] }

const MAX_DEPTH = 20;

/** Reads a policy file: a mapping of rule name to check string (oslo.policy's YAML format). */
export function readPolicyFile(file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InvalidInput(`Cannot read policy file ${file}: ${(err as Error).message}`);
  }
  if (parsed == null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidInput(`Policy file ${file} must hold a mapping of rule names to check strings`);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw new InvalidInput(`Policy file ${file}: rule "${name}" must be a check string, got ${JSON.stringify(value)}`);
    out[name] = value;
  }
  return out;
}

export class Policy {
  private readonly rules = new Map<string, CompiledRule>();
  private readonly constants: Target;

  constructor(overrides: Record<string, string>, opts: { serviceProjectName: string; logger?: Logger }) {
    this.constants = { 'config.service_project_name': opts.serviceProjectName };
    for (const r of RULE_DEFAULTS) this.rules.set(r.name, { check: parseCheck(r.check), text: r.check, scopes: r.scopes });
    for (const [name, text] of Object.entries(overrides)) {
      const known = this.rules.get(name);
      let check: Check;
      try {
        check = parseCheck(text);
      } catch (err) {
        throw new InvalidInput(`Policy rule "${name}": ${(err as Error).message}`);
      }
      if (!known) opts.logger?.warn(`policy file: rule "${name}" is not one of Anvil's rules; it is kept for rule:${name} references`);
      this.rules.set(name, { check, text, scopes: known?.scopes ?? ['system', 'project'] });
    }
  }

  static fromConfig(auth: AuthConfig, logger?: Logger): Policy {
    return new Policy(auth.policyFile ? readPolicyFile(auth.policyFile) : {}, { serviceProjectName: auth.serviceProjectName, logger });
  }

  has(name: string): boolean {
    return this.rules.has(name);
  }

  /** The check string in force for a rule. */
  checkString(name: string): string | undefined {
    return this.rules.get(name)?.text;
  }

  /**
   * Whether the identity passes the rule on this target. With `target` null, a rule that needs it
   * throws NEEDS_TARGET (checks.ts), so the caller loads the target only when a rule looks at it.
   */
  allowed(name: string, id: Identity, target: Target | null, creds = policyCredentials(id)): boolean {
    const rule = this.rules.get(name);
    if (!rule) return false;
    if (rule.text.trim() === '') return true;
    const scope: Scope | null = id.system ? 'system' : id.projectId ? 'project' : null;
    if (scope === null || !rule.scopes.includes(scope)) return false;
    let depth = 0;
    const ctx: CheckContext = {
      creds,
      target,
      constants: this.constants,
      rule: (ref) => {
        const r = this.rules.get(ref);
        if (!r || ++depth > MAX_DEPTH) return false;
        try {
          return r.check(ctx);
        } finally {
          depth--;
        }
      },
    };
    return rule.check(ctx);
  }
}

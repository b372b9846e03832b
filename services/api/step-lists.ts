// What runbooks and deploy templates share (Ironic checks both the same way): the JSON schema of a
// step in their lists, and that each interface/step pair is named at most once.

/**
 * A list entry's schema: `interface` one of `interfaces`, a `step` name, `args`, and its rank
 * (`priority` for deploy templates, `order` for runbooks) as an integer or a string of digits.
 */
export function stepSchema(interfaces: readonly string[], rank: 'priority' | 'order', required: readonly string[]): Record<string, unknown> {
  return {
    type: 'object',
    required: [...required],
    additionalProperties: false,
    properties: {
      interface: { type: 'string', enum: interfaces },
      step: { type: 'string', minLength: 1 },
      args: { type: 'object' },
      [rank]: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', minLength: 1, pattern: '^[0-9]+$' }] },
    },
  };
}

/** "interface: X, step: Y" of every pair `steps` names more than once. */
export function duplicateSteps(steps: readonly { interface: string; step: string }[]): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const s of steps) {
    const key = `interface: ${s.interface}, step: ${s.step}`;
    if (seen.has(key)) duplicates.add(key);
    seen.add(key);
  }
  return [...duplicates];
}

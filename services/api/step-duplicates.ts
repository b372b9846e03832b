// Runbooks and deploy templates may name each interface/step pair at most once (Ironic checks
// both the same way); the message lists the pairs named twice.

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

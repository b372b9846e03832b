// Where the real vendors' mockup trees are: ANVIL_REDFISH_MOCKUPS, else ../shared/redfish-mockups
// beside the repository (as the project's layout has it).
import { existsSync } from 'node:fs';
import path from 'node:path';

export function mockupRoot(): string {
  const candidates = [process.env.ANVIL_REDFISH_MOCKUPS, path.resolve(import.meta.dirname, '../../../../shared/redfish-mockups')].filter((c): c is string => !!c);
  const found = candidates.find((c) => existsSync(path.join(c, 'README.md')));
  if (!found) throw new Error(`Redfish mockup trees not found (looked in ${candidates.join(', ')}); set ANVIL_REDFISH_MOCKUPS`);
  return found;
}

export function mockup(tree: string): string {
  return path.join(mockupRoot(), tree);
}

// Where the real vendors' mockup trees are: test/fixtures/redfish-mockups/ (sources and licences in its README).
import path from 'node:path';

const MOCKUP_ROOT = path.resolve(import.meta.dirname, '../../fixtures/redfish-mockups');

export function mockup(tree: string): string {
  return path.join(MOCKUP_ROOT, tree);
}

// What every route plugin is given.
import type { AnvilConfig } from '../../common/config.ts';
import type { Logger } from '../../common/logger.ts';
import type { Database } from '../../db/index.ts';

export interface ApiContext {
  db: Database;
  config: AnvilConfig;
  logger: Logger;
  /** How long a call that needs the BMC (boot device, NMI...) waits for a conductor. */
  taskTimeoutMs: number;
  /** The newest microversion served: MAX_VERSION, unless the server was built with another. */
  maxVersion: number;
}

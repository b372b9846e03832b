// The storage family: storage interfaces that boot a node from its volumes (`external`). The
// `noop` one, which boots none, is with the other no-ops (drivers/noop).
import type { DriverFamily } from '../interfaces.ts';
import { externalStorage } from './external.ts';

export const storageFamily: DriverFamily = {
  implementations: { storage: [externalStorage] },
  hardwareTypes: [],
};

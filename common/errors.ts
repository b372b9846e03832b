// Typed errors. The API maps each to an HTTP status and Ironic's error body in one place
// (services/api/errors.ts); the conductor turns them into a node's last_error.

export class AnvilError extends Error {
  /** HTTP status the API answers with; 500 for anything unexpected. */
  readonly status: number;
  /** Ironic's exception class name (e.g. NodeLocked), useful in logs and tests. */
  readonly code: string;
  constructor(message: string, status = 500, code = 'AnvilError') {
    super(message);
    this.status = status;
    this.code = code;
    this.name = code;
  }
}

export class InvalidInput extends AnvilError {
  constructor(message: string, code = 'Invalid') { super(message, 400, code); }
}
export class NotFound extends AnvilError {
  constructor(message: string, code = 'NotFound') { super(message, 404, code); }
}
export class Conflict extends AnvilError {
  constructor(message: string, code = 'Conflict') { super(message, 409, code); }
}
export class NotAcceptable extends AnvilError {
  constructor(message: string) { super(message, 406, 'NotAcceptable'); }
}
export class NodeLocked extends Conflict {
  constructor(node: string, host: string) {
    super(`Node ${node} is locked by host ${host}, please retry after the current operation is completed.`, 'NodeLocked');
  }
}

/** A driver's failure: the message is what the operator reads in last_error. */
export class DriverError extends AnvilError {
  constructor(message: string, code = 'DriverError') { super(message, 500, code); }
}
/** The BMC did not answer in time; retryable. */
export class BmcTimeout extends DriverError {
  constructor(message: string) { super(message, 'BmcTimeout'); }
}
/** driver_info or instance_info lacks or mangles something the driver needs. */
export class MissingParameter extends AnvilError {
  constructor(message: string) { super(message, 400, 'MissingParameterValue'); }
}
export class UnsupportedOperation extends DriverError {
  constructor(message: string) { super(message, 'UnsupportedDriverExtension'); }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

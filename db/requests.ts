// What the API asks a conductor to do, as typed records on the node row: the arguments of the
// provision operation in progress (provision_request) and of a requested power change
// (power_request). The API writes a request in the same compare-and-set that moves the node; the
// conductor hands its arguments to the interfaces (deploy(ctx, {steps, configdrive}), ...). A
// provision request lives as long as its operation: common/states.ts transitionFields clears it
// when the node comes to rest. The conductor clears a power request when it has acted on it.

type Json = Record<string, unknown>;

/** A step as a user names it in clean_steps, deploy_steps or service_steps. */
export interface RequestedStep {
  interface: string;
  step: string;
  args?: Json;
  priority?: number;
}

/** PUT /states/provision's arguments (ironic node.py provision()); each verb takes a few of them. */
export interface ProvisionRequest {
  /** deploy_steps (deploy, rebuild), clean_steps (clean) or service_steps (service), as given. */
  steps?: RequestedStep[];
  /** A config drive for deploy and rebuild: a URL, a base64 gzipped ISO, or its contents as an object. */
  configdrive?: string | Json;
  /** Clean or service without booting the ramdisk. */
  disable_ramdisk?: boolean;
  /** The sha512-crypt hash of the rescue password (the API hashes it; the plain password is kept nowhere). */
  rescue_password_hash?: string;
}

/** PUT /states/power: the target as asked (power on/off, rebooting, soft variants) and its timeout in seconds. */
export interface PowerRequest {
  target: string;
  timeout?: number;
}

// Ironic's secure-RBAC policy defaults (ironic/common/policy.py), rule for rule, plus Anvil's own
// additions under `anvil:`. Rules as data: a name, its check string, the token scopes it accepts
// and what it guards. docs/security.md lists them all; a policy file can override any of them.

// The personas, spelled as Ironic spells them.
const SYSTEM_ADMIN = 'role:admin and system_scope:all';
const SYSTEM_MEMBER = '(role:member and system_scope:all) or rule:service_role';
const SYSTEM_READER = '(role:reader and system_scope:all) or (role:service and system_scope:all) or rule:service_role';
const PROJECT_ADMIN = 'role:admin and project_id:%(node.owner)s';
const PROJECT_MEMBER = 'role:member and (project_id:%(node.owner)s or project_id:%(node.lessee)s)';
const PROJECT_READER = 'role:reader and (project_id:%(node.owner)s or project_id:%(node.lessee)s)';
const SYSTEM_SERVICE = 'role:service and system_scope:all';
const PROJECT_SERVICE = 'role:service and project_id:%(node.owner)s';
const SYSTEM_OR_PROJECT_MEMBER = `(${SYSTEM_MEMBER}) or (${PROJECT_MEMBER}) or (${SYSTEM_SERVICE})`;
const SYSTEM_OR_PROJECT_READER = `(${SYSTEM_READER}) or (${PROJECT_READER}) or (${PROJECT_SERVICE})`;
const PROJECT_OWNER_ADMIN = 'role:admin and project_id:%(node.owner)s';
const PROJECT_OWNER_MANAGER = 'role:manager and project_id:%(node.owner)s';
const PROJECT_OWNER_MEMBER = 'role:member and project_id:%(node.owner)s';
const PROJECT_OWNER_READER = 'role:reader and project_id:%(node.owner)s';
const PROJECT_LESSEE_ADMIN = 'role:admin and project_id:%(node.lessee)s';
const PROJECT_LESSEE_MANAGER = 'role:manager and project_id:%(node.lessee)s';
const ALLOCATION_OWNER_MEMBER = 'role:member and project_id:%(allocation.owner)s';
const ALLOCATION_OWNER_READER = 'role:reader and project_id:%(allocation.owner)s';
const SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN = `(${SYSTEM_MEMBER}) or (${SYSTEM_SERVICE}) or (${PROJECT_OWNER_MEMBER}) or (${PROJECT_LESSEE_ADMIN}) or (${PROJECT_LESSEE_MANAGER}) or (${PROJECT_SERVICE})`;
const SYSTEM_ADMIN_OR_OWNER_ADMIN = `(${SYSTEM_ADMIN}) or (${SYSTEM_SERVICE}) or (${PROJECT_OWNER_ADMIN}) or (${PROJECT_OWNER_MANAGER}) or (${PROJECT_SERVICE})`;
const SYSTEM_MEMBER_OR_OWNER_ADMIN = `(${SYSTEM_MEMBER}) or (${SYSTEM_SERVICE}) or (${PROJECT_OWNER_ADMIN}) or (${PROJECT_OWNER_MANAGER}) or (${PROJECT_SERVICE})`;
const SYSTEM_MEMBER_OR_OWNER_MEMBER = `(${SYSTEM_MEMBER}) or (${SYSTEM_SERVICE}) or (${PROJECT_OWNER_MEMBER}) or (${PROJECT_SERVICE})`;
const SYSTEM_OR_OWNER_READER = `(${SYSTEM_READER}) or (${SYSTEM_SERVICE}) or (${PROJECT_OWNER_READER}) or (${PROJECT_SERVICE})`;
const ALLOCATION_MEMBER = `(${SYSTEM_MEMBER}) or (${ALLOCATION_OWNER_MEMBER})`;
const ALLOCATION_READER = `(${SYSTEM_READER}) or (${ALLOCATION_OWNER_READER})`;
const ALLOCATION_CREATOR = `(${SYSTEM_MEMBER}) or (role:member)`;
const API_READER = '(role:reader) or (role:service)';
const RUNBOOK_OWNER_MANAGER = 'role:manager and project_id:%(runbook.owner)s';
const RUNBOOK_OWNER_READER = 'role:reader and project_id:%(runbook.owner)s';
const RUNBOOK_ADMIN = `(${SYSTEM_MEMBER}) or (${RUNBOOK_OWNER_MANAGER}) or role:service`;
const RUNBOOK_READER = `(${SYSTEM_READER}) or (${RUNBOOK_OWNER_READER}) or role:service`;
const NETWORK_OWNER_READER = 'role:reader and project_id:%(network.owner)s';
const NETWORK_OWNER_MEMBER = 'role:member and project_id:%(network.owner)s';
const NETWORK_OWNER_MANAGER = '(role:admin or role:manager) and project_id:%(network.owner)s';
const RUNBOOK_CREATOR = `(${SYSTEM_MEMBER}) or role:manager or role:service`;

export type Scope = 'system' | 'project';

export interface RuleDefault {
  name: string;
  check: string;
  /** Token scopes the rule accepts (oslo scope_types, enforced as Ironic enforces them). */
  scopes: readonly Scope[];
  description: string;
}

const BOTH: readonly Scope[] = ['system', 'project'];
const SYSTEM: readonly Scope[] = ['system'];

const TABLE: [name: string, check: string, scopes: readonly Scope[], description: string][] = [
  // Building blocks other rules refer to.
  ['service_role', 'role:service and project_name:%(config.service_project_name)s', BOTH, 'A service user of the service project (auth.serviceProjectName)'],

  ['baremetal:node:create', `(${SYSTEM_ADMIN}) or (${SYSTEM_SERVICE})`, BOTH, 'Create nodes'],
  ['baremetal:node:create:self_owned_node', '(role:admin) or (role:service)', BOTH, 'Create nodes owned by the caller\'s project'],
  ['baremetal:node:list', API_READER, BOTH, 'List nodes, filtered to those the caller\'s project owns or leases'],
  ['baremetal:node:list_all', SYSTEM_READER, BOTH, 'List every node'],
  ['baremetal:node:get', SYSTEM_OR_PROJECT_READER, BOTH, 'Show a node (without it, the node answers 404)'],
  ['baremetal:node:get:filter_threshold', SYSTEM_READER, BOTH, 'See every field of a node; others go through the get:<field> rules'],
  ['baremetal:node:get:last_error', SYSTEM_OR_OWNER_READER, BOTH, 'See a node\'s last_error'],
  ['baremetal:node:get:reservation', SYSTEM_OR_OWNER_READER, BOTH, 'See a node\'s reservation'],
  ['baremetal:node:get:driver_internal_info', SYSTEM_OR_OWNER_READER, BOTH, 'See a node\'s driver_internal_info'],
  ['baremetal:node:get:driver_info', SYSTEM_OR_OWNER_READER, BOTH, 'See a node\'s driver_info'],
  ['baremetal:node:update:driver_info', SYSTEM_MEMBER_OR_OWNER_MEMBER, BOTH, 'Change driver_info (BMC address and credentials)'],
  ['baremetal:node:update:properties', SYSTEM_MEMBER_OR_OWNER_MEMBER, BOTH, 'Change properties'],
  ['baremetal:node:update:chassis_uuid', SYSTEM_ADMIN, BOTH, 'Change chassis_uuid'],
  ['baremetal:node:update:instance_uuid', SYSTEM_MEMBER_OR_OWNER_MEMBER, BOTH, 'Change instance_uuid'],
  ['baremetal:node:update:lessee', SYSTEM_MEMBER_OR_OWNER_MEMBER, BOTH, 'Change lessee'],
  ['baremetal:node:update:owner', SYSTEM_MEMBER, BOTH, 'Change owner'],
  ['baremetal:node:update:driver_interfaces', SYSTEM_MEMBER_OR_OWNER_ADMIN, BOTH, 'Change driver and *_interface fields'],
  ['baremetal:node:update:network_data', SYSTEM_MEMBER_OR_OWNER_MEMBER, BOTH, 'Change network_data'],
  ['baremetal:node:update:conductor_group', SYSTEM_MEMBER, BOTH, 'Change conductor_group'],
  ['baremetal:node:update:name', SYSTEM_MEMBER_OR_OWNER_MEMBER, BOTH, 'Change name'],
  ['baremetal:node:update:retired', SYSTEM_MEMBER_OR_OWNER_MEMBER, BOTH, 'Change retired and retired_reason'],
  ['baremetal:node:update:shard', SYSTEM_ADMIN, BOTH, 'Change shard'],
  ['baremetal:node:update:parent_node', SYSTEM_MEMBER, BOTH, 'Change parent_node'],
  ['baremetal:node:update:disable_power_off', SYSTEM_ADMIN, BOTH, 'Change disable_power_off'],
  ['baremetal:node:update', SYSTEM_OR_PROJECT_MEMBER, BOTH, 'Change any other node field'],
  ['baremetal:node:update_extra', SYSTEM_OR_PROJECT_MEMBER, BOTH, 'Change extra'],
  ['baremetal:node:update_instance_info', SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN, BOTH, 'Change instance_info'],
  ['baremetal:node:update_owner_provisioned', SYSTEM_ADMIN, SYSTEM, 'Change the owner of an active node'],
  ['baremetal:node:disable_cleaning', SYSTEM_ADMIN, SYSTEM, 'Set automated_clean to false'],
  ['baremetal:node:delete', SYSTEM_ADMIN, BOTH, 'Delete nodes'],
  ['baremetal:node:delete:self_owned_node', PROJECT_ADMIN, BOTH, 'Delete nodes the caller\'s project owns'],
  ['baremetal:node:validate', SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN, BOTH, 'Validate a node\'s interfaces'],
  ['baremetal:node:set_maintenance', SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN, BOTH, 'Set maintenance'],
  ['baremetal:node:clear_maintenance', SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN, BOTH, 'Clear maintenance'],
  ['baremetal:node:get_boot_device', SYSTEM_MEMBER_OR_OWNER_ADMIN, BOTH, 'Read the boot device and the supported ones'],
  ['baremetal:node:set_boot_device', SYSTEM_MEMBER_OR_OWNER_ADMIN, BOTH, 'Set the boot device'],
  ['baremetal:node:inject_nmi', SYSTEM_MEMBER_OR_OWNER_ADMIN, BOTH, 'Inject an NMI'],
  ['baremetal:node:get_states', SYSTEM_OR_PROJECT_READER, BOTH, 'Show power and provision state'],
  ['baremetal:node:set_power_state', SYSTEM_OR_PROJECT_MEMBER, BOTH, 'Power on, off, reboot'],
  ['baremetal:node:set_boot_mode', SYSTEM_OR_PROJECT_MEMBER, BOTH, 'Change the boot mode'],
  ['baremetal:node:get_console', SYSTEM_OR_PROJECT_MEMBER, BOTH, 'Get the node console connection information'],
  ['baremetal:node:set_console_state', SYSTEM_OR_PROJECT_MEMBER, BOTH, 'Enable or disable the node console'],
  ['baremetal:node:set_secure_boot', SYSTEM_OR_PROJECT_MEMBER, BOTH, 'Change secure boot'],
  ['baremetal:node:set_provision_state', SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN, BOTH, 'Provision actions: manage, provide, inspect, clean, deploy, undeploy, rescue, abort...'],
  ['baremetal:node:set_raid_state', SYSTEM_MEMBER_OR_OWNER_MEMBER, BOTH, 'Set the target RAID configuration'],
  ['baremetal:node:traits:list', SYSTEM_OR_PROJECT_READER, BOTH, 'List a node\'s traits'],
  ['baremetal:node:traits:set', SYSTEM_MEMBER_OR_OWNER_ADMIN, BOTH, 'Add or replace traits'],
  ['baremetal:node:traits:delete', SYSTEM_MEMBER_OR_OWNER_ADMIN, BOTH, 'Remove traits'],
  ['baremetal:node:bios:get', SYSTEM_OR_PROJECT_READER, BOTH, 'Read BIOS settings'],
  ['baremetal:node:get_indicator_state', SYSTEM_OR_PROJECT_READER, BOTH, 'Read a node\'s indicators and their states'],
  ['baremetal:node:set_indicator_state', SYSTEM_OR_PROJECT_MEMBER, BOTH, 'Set a node\'s indicator state'],
  ['baremetal:node:vendor_passthru', SYSTEM_ADMIN, BOTH, 'Call the node\'s vendor passthru methods'],
  ['baremetal:driver:vendor_passthru', SYSTEM_ADMIN, SYSTEM, 'Call a driver\'s vendor passthru methods'],
  ['baremetal:node:firmware:get', SYSTEM_OR_PROJECT_READER, BOTH, 'Read firmware components'],
  ['baremetal:node:history:get', SYSTEM_OR_OWNER_READER, BOTH, 'Read a node\'s history'],
  ['baremetal:node:inventory:get', SYSTEM_OR_OWNER_READER, BOTH, 'Read a node\'s inspection inventory'],
  ['baremetal:node:vmedia:attach', SYSTEM_OR_PROJECT_MEMBER, BOTH, 'Attach virtual media to a node'],
  ['baremetal:node:vmedia:detach', SYSTEM_OR_PROJECT_MEMBER, BOTH, 'Detach virtual media from a node'],
  ['baremetal:node:vmedia:get', SYSTEM_OR_PROJECT_READER, BOTH, 'Read a node\'s virtual media'],
  ['baremetal:shards:get', SYSTEM_READER, BOTH, 'List shards and their node counts'],

  ['baremetal:runbook:get', RUNBOOK_READER, BOTH, 'Show a runbook (public ones are shown to anyone)'],
  ['baremetal:runbook:list', API_READER, BOTH, 'List the runbooks the caller\'s project owns, and public ones'],
  ['baremetal:runbook:list_all', SYSTEM_READER, BOTH, 'List every runbook'],
  ['baremetal:runbook:create', RUNBOOK_CREATOR, BOTH, 'Create runbooks (a project manager\'s are owned by its project)'],
  ['baremetal:runbook:delete', RUNBOOK_ADMIN, BOTH, 'Delete runbooks'],
  ['baremetal:runbook:update', RUNBOOK_ADMIN, BOTH, 'Change runbooks'],
  ['baremetal:runbook:update:public', SYSTEM_MEMBER, BOTH, 'Make a runbook public or not'],
  ['baremetal:runbook:update:owner', SYSTEM_MEMBER, BOTH, 'Change a runbook\'s owner'],
  ['baremetal:runbook:use', RUNBOOK_ADMIN, BOTH, 'Run a runbook on a node (clean or service)'],

  ['baremetal:events:post', SYSTEM_ADMIN, SYSTEM, 'Post external (network) events'],

  ['baremetal:volume:get', SYSTEM_READER, SYSTEM, 'List and show volume connectors and targets'],
  ['baremetal:volume:create', SYSTEM_MEMBER, SYSTEM, 'Create volume connectors and targets'],
  ['baremetal:volume:delete', SYSTEM_MEMBER, SYSTEM, 'Delete volume connectors and targets'],
  ['baremetal:volume:update', SYSTEM_MEMBER, SYSTEM, 'Change volume connectors and targets'],

  ['baremetal:deploy_template:get', SYSTEM_READER, SYSTEM, 'List and show deploy templates'],
  ['baremetal:deploy_template:create', SYSTEM_ADMIN, SYSTEM, 'Create deploy templates'],
  ['baremetal:deploy_template:delete', SYSTEM_ADMIN, SYSTEM, 'Delete deploy templates'],
  ['baremetal:deploy_template:update', SYSTEM_ADMIN, SYSTEM, 'Change deploy templates'],
  ['baremetal:inspection_rule:get', SYSTEM_READER, SYSTEM, 'List and show inspection rules'],
  ['baremetal:inspection_rule:create', SYSTEM_ADMIN, SYSTEM, 'Create inspection rules'],
  ['baremetal:inspection_rule:update', SYSTEM_ADMIN, SYSTEM, 'Change inspection rules'],
  ['baremetal:inspection_rule:delete', SYSTEM_ADMIN, SYSTEM, 'Delete inspection rules (one or all)'],

  ['baremetal:port:get', SYSTEM_OR_PROJECT_READER, BOTH, 'Show a port (follows its node)'],
  ['baremetal:port:list', API_READER, BOTH, 'List ports of the nodes the caller\'s project owns or leases'],
  ['baremetal:port:list_all', SYSTEM_READER, BOTH, 'List every port'],
  ['baremetal:port:create', SYSTEM_ADMIN_OR_OWNER_ADMIN, BOTH, 'Create ports'],
  ['baremetal:port:delete', SYSTEM_ADMIN_OR_OWNER_ADMIN, BOTH, 'Delete ports'],
  ['baremetal:port:update', SYSTEM_MEMBER_OR_OWNER_ADMIN, BOTH, 'Change ports'],

  ['baremetal:portgroup:get', SYSTEM_OR_PROJECT_READER, BOTH, 'Show a port group (follows its node)'],
  ['baremetal:portgroup:list', API_READER, BOTH, 'List port groups of the nodes the caller\'s project owns or leases'],
  ['baremetal:portgroup:list_all', SYSTEM_READER, BOTH, 'List every port group'],
  ['baremetal:portgroup:create', SYSTEM_ADMIN_OR_OWNER_ADMIN, BOTH, 'Create port groups'],
  ['baremetal:portgroup:delete', SYSTEM_ADMIN_OR_OWNER_ADMIN, BOTH, 'Delete port groups'],
  ['baremetal:portgroup:update', SYSTEM_MEMBER_OR_OWNER_ADMIN, BOTH, 'Change port groups'],

  ['baremetal:chassis:get', SYSTEM_READER, SYSTEM, 'List and show chassis'],
  ['baremetal:chassis:create', SYSTEM_ADMIN, SYSTEM, 'Create chassis'],
  ['baremetal:chassis:delete', SYSTEM_ADMIN, SYSTEM, 'Delete chassis'],
  ['baremetal:chassis:update', SYSTEM_MEMBER, SYSTEM, 'Change chassis'],

  ['baremetal:driver:get', SYSTEM_READER, SYSTEM, 'List and show drivers'],
  ['baremetal:driver:get_properties', SYSTEM_READER, SYSTEM, 'Show a driver\'s properties'],
  ['baremetal:driver:get_raid_logical_disk_properties', SYSTEM_READER, SYSTEM, 'Show the logical disk properties of a driver\'s RAID interface'],

  ['baremetal:node:ipa_heartbeat', '', BOTH, 'Heartbeats of the deploy ramdisk (checked against the agent token instead)'],
  ['baremetal:driver:ipa_lookup', '', BOTH, 'Lookup of the deploy ramdisk (hands out the agent token once)'],
  ['baremetal:driver:ipa_continue_inspection', '', BOTH, 'Inspection data from the ramdisk'],

  ['baremetal:conductor:get', SYSTEM_READER, BOTH, 'List and show conductors'],

  ['baremetal:allocation:get', ALLOCATION_READER, BOTH, 'Show an allocation (without it, 404)'],
  ['baremetal:allocation:list', API_READER, BOTH, 'List the allocations the caller\'s project owns'],
  ['baremetal:allocation:list_all', SYSTEM_READER, BOTH, 'List every allocation'],
  ['baremetal:allocation:create', ALLOCATION_CREATOR, BOTH, 'Create allocations (a project member\'s are owned by its project)'],
  ['baremetal:allocation:create_restricted', SYSTEM_MEMBER, BOTH, 'Create allocations with any owner'],
  ['baremetal:allocation:delete', ALLOCATION_MEMBER, BOTH, 'Delete allocations'],
  ['baremetal:allocation:update', ALLOCATION_MEMBER, BOTH, 'Change an allocation\'s name, extra and owner'],

  ['baremetal:node:vif:list', SYSTEM_OR_PROJECT_READER, BOTH, 'List the VIFs (network attachments) of a node'],
  ['baremetal:node:vif:attach', SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN, BOTH, 'Attach a VIF (an Anvil network) to a node'],
  ['baremetal:node:vif:detach', SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN, BOTH, 'Detach a VIF from a node'],
  ['anvil:network:get', `(${SYSTEM_READER}) or (${NETWORK_OWNER_READER})`, BOTH, 'Show a network (Anvil\'s own API)'],
  ['anvil:network:list', API_READER, BOTH, 'List the networks the caller\'s project owns'],
  ['anvil:network:list_all', SYSTEM_READER, BOTH, 'List every network'],
  ['anvil:network:create', `(${SYSTEM_ADMIN}) or (${SYSTEM_SERVICE})`, BOTH, 'Create networks of any kind and owner'],
  ['anvil:network:create:self_owned', '(role:admin) or (role:manager)', BOTH, 'Create tenant networks owned by the caller\'s project'],
  ['anvil:network:delete', `(${SYSTEM_ADMIN}) or (${SYSTEM_SERVICE}) or (${NETWORK_OWNER_MANAGER})`, BOTH, 'Delete a network'],
  ['anvil:network:use', `(${SYSTEM_MEMBER}) or (${SYSTEM_SERVICE}) or (${NETWORK_OWNER_MEMBER})`, BOTH, 'Attach a node to the network (the VIF\'s network must be the caller\'s project\'s)'],
  ['anvil:netboot:get', SYSTEM_READER, SYSTEM, 'Read the provisioning network\'s subnets and DHCP leases (Anvil\'s own API)'],
  ['anvil:netboot:update', SYSTEM_ADMIN, SYSTEM, 'Add and remove relayed subnets (Anvil\'s own API)'],
  ['anvil:metrics:get', SYSTEM_READER, SYSTEM, 'Scrape the Prometheus metrics of the API process and the fleet (Anvil\'s own API)'],
];

export const RULE_DEFAULTS: readonly RuleDefault[] = TABLE.map(([name, check, scopes, description]) => ({ name, check, scopes, description }));

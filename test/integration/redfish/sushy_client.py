"""Drives the Anvil Redfish simulator with Debian's python3-sushy, as OpenStack Ironic would.

Usage: sushy_client.py URL USERNAME PASSWORD [CAFILE|-]
Prints one JSON document: for every system, what sushy read and what it saw after changing power
and the boot override. Exits non-zero (with the traceback on stderr) when sushy fails.
"""
import json
import sys
import time

import sushy
from sushy import auth as sushy_auth


def wait_power(system, target, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        system.refresh()
        if system.power_state == target:
            return
        if time.monotonic() > deadline:
            raise RuntimeError('%s never reached %s (still %s)' % (system.path, target, system.power_state))
        time.sleep(0.05)


def main():
    url, username, password = sys.argv[1:4]
    verify = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] != '-' else True
    conn = sushy.Sushy(url + '/redfish/v1', auth=sushy_auth.SessionOrBasicAuth(username=username, password=password), verify=verify)
    out = {'systems': []}
    for member in conn.get_system_collection().get_members():
        system = conn.get_system(member.path)
        seen = {
            'path': system.path,
            'identity': system.identity,
            'uuid': system.uuid,
            'manufacturer': system.manufacturer,
            'power_before': system.power_state.value,
            'allowed_resets': sorted(v.value for v in system.get_allowed_reset_system_values()),
            'allowed_boot': sorted(v.value for v in system.get_allowed_system_boot_source_values()),
        }
        system.reset_system(sushy.ResetType.ON)
        wait_power(system, sushy.PowerState.ON)
        seen['power_after_on'] = system.power_state.value
        system.set_system_boot_options(sushy.BootSource.PXE, enabled=sushy.BootSourceOverrideEnabled.CONTINUOUS)
        system.refresh()
        seen['boot_target'] = system.boot.target.value
        seen['boot_enabled'] = system.boot.enabled.value
        system.reset_system(sushy.ResetType.FORCE_OFF)
        wait_power(system, sushy.PowerState.OFF)
        seen['power_after_off'] = system.power_state.value
        out['systems'].append(seen)
    out['session_auth'] = conn._conn._auth.can_refresh_session() if hasattr(conn._conn._auth, 'can_refresh_session') else None
    print(json.dumps(out))


if __name__ == '__main__':
    main()

"""Reads one system's firmware from the Anvil Redfish simulator with Debian's python3-sushy.

Usage: sushy_firmware.py URL USERNAME PASSWORD SYSTEM_PATH
Prints one JSON document: the system's BiosVersion, its manager's FirmwareVersion and the
UpdateService's FirmwareInventory (id -> version). Exits non-zero when sushy fails.
"""
import json
import sys

import sushy
from sushy import auth as sushy_auth


def main():
    url, username, password, system_path = sys.argv[1:5]
    conn = sushy.Sushy(url + '/redfish/v1', auth=sushy_auth.BasicAuth(username=username, password=password))
    system = conn.get_system(system_path)
    manager = system.managers[0]
    inventory = conn.get_update_service().firmware_inventory
    print(json.dumps({
        'bios_version': system.bios_version,
        'bmc_version': manager.firmware_version,
        'inventory': {m.identity: m.version for m in inventory.get_members()},
    }))


if __name__ == '__main__':
    main()

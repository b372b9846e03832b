"""Reads one system's boot override with Debian's python3-sushy, as Ironic's redfish-https does.

Usage: sushy_boot.py URL USERNAME PASSWORD SYSTEM_PATH
Prints JSON: the allowed override targets sushy parsed, and the Boot object's target, enabled
and HttpBootUri as the BMC serves them (this sushy predates http_boot_uri, so the raw document).
"""
import json
import sys

import sushy
from sushy import auth as sushy_auth


def main():
    url, username, password, system_path = sys.argv[1:5]
    conn = sushy.Sushy(url + '/redfish/v1', auth=sushy_auth.BasicAuth(username=username, password=password))
    system = conn.get_system(system_path)
    boot = system.json['Boot']
    print(json.dumps({
        'allowed': sorted(v.value for v in system.get_allowed_system_boot_source_values()),
        'target': system.boot.target.value if system.boot.target else None,
        'enabled': system.boot.enabled.value if system.boot.enabled else None,
        'http_boot_uri': boot.get('HttpBootUri'),
    }))


if __name__ == '__main__':
    main()

"""Lists the RAID volumes of one system of the Anvil Redfish simulator, with Debian's python3-sushy.

Usage: sushy_volumes.py URL USERNAME PASSWORD SYSTEM_PATH
Prints one JSON list: each volume's identity, RAID type, capacity and drives.
"""
import json
import sys

import sushy
from sushy import auth as sushy_auth


def main():
    url, username, password, system_path = sys.argv[1:5]
    conn = sushy.Sushy(url + '/redfish/v1', auth=sushy_auth.BasicAuth(username=username, password=password))
    out = []
    for storage in conn.get_system(system_path).storage.get_members():
        for v in storage.volumes.get_members():
            raid = v.raid_type.value if hasattr(v.raid_type, 'value') else v.raid_type
            out.append({'id': v.identity, 'raid_type': raid, 'capacity_bytes': v.capacity_bytes,
                        'drives': sorted(x['@odata.id'].split('/')[-1] for x in v.json['Links']['Drives'])})
    print(json.dumps(out))


if __name__ == '__main__':
    main()

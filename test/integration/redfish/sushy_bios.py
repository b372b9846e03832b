"""Reads one system's BIOS from the Anvil Redfish simulator with Debian's python3-sushy, as Ironic does.

Usage: sushy_bios.py URL USERNAME PASSWORD SYSTEM_PATH
Prints one JSON document: the current attributes, the pending ones (the settings object) and the
attribute registry sushy found for them. Exits non-zero (traceback on stderr) when sushy fails.
"""
import json
import sys

import sushy
import sushy.main
from sushy import auth as sushy_auth


def main():
    # Debian's python3-sushy 4.3.3 ships without its standard_registries folder, which sushy lists
    # before reading the service's own registries: without the packaged ones it reads only the BMC's.
    sushy.main.Sushy._get_standard_message_registry_collection = lambda self: []
    url, username, password, system_path = sys.argv[1:5]
    conn = sushy.Sushy(url + '/redfish/v1', auth=sushy_auth.BasicAuth(username=username, password=password))
    bios = conn.get_system(system_path).bios
    registry = bios.get_attribute_registry()
    out = {
        'attribute_registry': bios._attribute_registry,
        'attributes': dict(bios.attributes),
        'pending': dict(bios.pending_attributes),
        'registry': None if registry is None else [
            {
                'name': a.name, 'type': a.attribute_type, 'read_only': a.read_only, 'reset_required': a.reset_required,
                'unique': a.unique, 'lower_bound': a.lower_bound, 'upper_bound': a.upper_bound,
                'min_length': a.min_length, 'max_length': a.max_length,
                'values': None if a.allowable_values is None else [v['ValueName'] for v in a.allowable_values],
            }
            for a in registry.registry_entries.attributes
        ],
    }
    print(json.dumps(out))


if __name__ == '__main__':
    main()

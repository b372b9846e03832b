"""Lists the event subscriptions the Anvil Redfish simulator holds, with Debian's python3-sushy.

Usage: sushy_events.py URL USERNAME PASSWORD
Prints one JSON list: each subscription's identity, destination, event types and context.
"""
import json
import sys

import sushy
from sushy import auth as sushy_auth


def main():
    url, username, password = sys.argv[1:4]
    conn = sushy.Sushy(url + '/redfish/v1', auth=sushy_auth.BasicAuth(username=username, password=password))
    subs = conn.get_event_service().subscriptions
    print(json.dumps([
        {'id': s.identity, 'destination': s.destination, 'event_types': [t.value if hasattr(t, 'value') else t for t in (s.event_types or [])], 'context': s.context}
        for s in subs.get_members()
    ]))


if __name__ == '__main__':
    main()

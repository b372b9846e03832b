# Drives Anvil's oVirt Engine simulator with libgovirt (Debian's gir1.2-govirt-1.0, GNOME's client of
# the Engine REST API, in XML) and prints what it saw as JSON: the entry point, the VM collection, a
# search, one VM's state through start and stop, and the fault of an action the Engine refuses.
# libgovirt authenticates with an SSO token here (its sso-token property), asked for at the SSO
# service as the API documentation shows: with Basic auth, libgovirt 0.3.9 (libsoup 3) retries a
# request after the 401 challenge with a Content-Length but without the body, which leaves a
# keep-alive connection out of step with any HTTP server.
# Usage: govirt-check.py HOST:PORT USER PASSWORD CA_FILE VM_NAME
import json
import ssl
import sys
import time
import urllib.parse
import urllib.request

import gi

gi.require_version('GoVirt', '1.0')
from gi.repository import GoVirt  # noqa: E402

hostport, user, password, ca_file, vm_name = sys.argv[1:6]
form = urllib.parse.urlencode({'grant_type': 'password', 'scope': 'ovirt-app-api', 'username': user, 'password': password}).encode()
token_request = urllib.request.Request('https://%s/ovirt-engine/sso/oauth/token' % hostport, data=form, headers={'Accept': 'application/json'})
token = json.load(urllib.request.urlopen(token_request, context=ssl.create_default_context(cafile=ca_file)))['access_token']

proxy = GoVirt.Proxy.new(hostport)
proxy.set_property('ssl-ca-file', ca_file)
proxy.set_property('sso-token', token)

out = {}
api = proxy.fetch_api()
out['vms_total'] = len(api.get_vms().get_resources()) if api.get_vms().fetch(proxy) else None
found = api.search_vms('name=%s' % vm_name)
found.fetch(proxy)
out['search'] = sorted(r.get_property('name') for r in found.get_resources().values())
vm = found.lookup_resource(vm_name)


def state():
    vm.refresh(proxy)
    return vm.get_property('state').value_nick


def wait(target):
    seen = [state()]
    for _ in range(200):
        if seen[-1] == target:
            break
        time.sleep(0.05)
        s = state()
        if s != seen[-1]:
            seen.append(s)
    return seen


out['initial'] = state()
out['start'] = vm.start(proxy)
out['after_start'] = wait('up')
try:
    vm.start(proxy)
    out['second_start'] = 'accepted'
except Exception as e:  # GLib.Error with the Engine's fault
    out['second_start'] = e.message if hasattr(e, 'message') else str(e)
out['stop'] = vm.stop(proxy)
out['after_stop'] = wait('down')
print(json.dumps(out))

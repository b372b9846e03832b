"""A pyghmi BMC (the stack VirtualBMC is built on) with power and boot device kept in memory.

Usage: pyghmi_bmc.py PORT USERNAME PASSWORD — prints "ready" once it listens on 127.0.0.1:PORT.
"""
import sys

import pyghmi.ipmi.bmc as bmc


class MemoryBmc(bmc.Bmc):
    def __init__(self, authdata, port):
        super().__init__(authdata, port=port, address='127.0.0.1')
        self.power = 'off'
        self.bootdevice = 'default'

    def get_power_state(self):
        return self.power

    def power_on(self):
        self.power = 'on'

    def power_off(self):
        self.power = 'off'

    def power_shutdown(self):
        self.power = 'off'

    def power_cycle(self):
        self.power = 'on'

    def power_reset(self):
        # As VirtualBMC: a reset of a powered-off host is refused.
        if self.power == 'off':
            return 0xd5
        return None

    def pulse_diag(self):
        return None

    def get_boot_device(self):
        return self.bootdevice

    def set_boot_device(self, bootdevice):
        self.bootdevice = bootdevice


if __name__ == '__main__':
    port, username, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    server = MemoryBmc({username: password}, port)
    print('ready', flush=True)
    server.listen()

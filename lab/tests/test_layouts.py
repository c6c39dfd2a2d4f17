"""The nfsha layout loads the shipped examples with only the addresses substituted; the
layouts and scenarios register themselves (one file each)."""
import os
import unittest

from util import LAB
from nfslab import layouts, scenarios
from nfslab.common import CLIENT_NET, VIP, LabError
from nfslab.layouts import nfsha

EXAMPLES = os.path.join(os.path.dirname(LAB), "examples")


class Examples(unittest.TestCase):
    def test_crm_example_substitution_changes_only_addresses(self):
        text = open(os.path.join(EXAMPLES, "nfs-cluster.crm")).read()
        out, counts = nfsha.substitute(text)
        self.assertTrue(counts["192.168.122.200"] >= 1 and counts["192.168.122.0/24"] >= 1, counts)
        self.assertEqual(out.replace(VIP, "192.168.122.200").replace(CLIENT_NET, "192.168.122.0/24"), text)
        prims, group = nfsha.parse_crm(out)
        self.assertEqual(group, ["fs-share", "nfs-state", "nfs-server", "nfs-export", "nfs-vip"])
        self.assertEqual(prims["nfs-vip"]["params"]["ip"], VIP)
        self.assertEqual(prims["nfs-state"]["params"]["drbd_resource"], "nfs")
        self.assertEqual(prims["nfs-server"]["params"]["server_hostname"], "nfs-ha")

    def test_pcs_example_substitution(self):
        text = open(os.path.join(EXAMPLES, "nfs-cluster.pcs.sh")).read()
        out, counts = nfsha.substitute(text)
        self.assertTrue(counts["192.168.122.200"] >= 1 and counts["192.168.122.0/24"] >= 1, counts)
        self.assertIn("ip=%s " % VIP, out)

    def test_unknown_example_address_is_refused(self):
        with self.assertRaises(LabError) as e:
            nfsha.substitute("primitive x ocf:nfsha:vip params ip=192.168.122.7")
        self.assertIn("192.168.122.7", str(e.exception))


class Registry(unittest.TestCase):
    def test_layouts(self):
        self.assertEqual(set(layouts.REGISTRY), {"nfsha", "clusterlabs", "linbit"})

    def test_scenarios(self):
        self.assertEqual(sorted(scenarios.REGISTRY), [1, 2, 3, 4, 5, 6, 7, 9, 10])

    def test_linbit_order(self):
        class A:
            no_systemd_clusterlabs = False
        lay = layouts.get("linbit", A())
        ids = [m[0] for m in lay.members()]
        self.assertEqual(ids, ["portblock", "fs_cluster_private", "fs_1", "service_ip", "nfsserver", "export_1_0",
                               "portunblock"])
        params = dict(lay.members()[-1][4])
        self.assertEqual((params["action"], params["tickle_dir"]), ("unblock", "/srv/ha/internal/nfs"))
        self.assertEqual(dict(lay.members()[4][4])["nfs_server_scope"], VIP)
        self.assertNotIn("nfs_server_scope", dict(layouts.get("linbit", A(), no_scope=True).members()[4][4]))


if __name__ == "__main__":
    unittest.main()

"""nfslab: the nfsha real-kernel VM lab (see lab/README.md).

Python 3 standard library only. Modules, one job each:
  common      constants (addresses, nodes), logging, LabError, host commands as argv
  image       host packages and the cached guest image
  net         the lab's network namespace, bridge and taps
  vm          QEMU VMs, QMP, the fence service and the 9p command channel
  cluster     corosync, DRBD, Pacemaker status and waiting
  client      the client VM's mount and writer (load, data and lock checks)
  probes      guest probes: nfsd monitor, /proc/locks, kernel tracepoints, CloudStack heartbeat
  capture     reading the host-side capture of cli1's tap (lab/nfscap)
  attribution where a failover's time went, from the capture (pure; unit-tested)
  cloudstack  CloudStack's stock KVM heartbeat timing: what it would have done (pure)
  layouts/    one file per cluster layout (nfsha, clusterlabs, linbit)
  scenarios/  one file per scenario
  boot        one lab boot running a list of scenarios for one layout
  report      tables, Markdown, medians and maxima
  cli         arguments and suites
"""

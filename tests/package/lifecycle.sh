#!/bin/bash
# Inside the test root: an admin configures the node, enables the heartbeat,
# then upgrades, removes and purges nfsha. The admin's files and the
# enablement survive the upgrade; removal and purge never delete the
# admin's files (the package does not own them).
#
#   lifecycle.sh NEXT_DEB
. /tmp/pkgtest/lib.sh
next="$1"

mkdir -p /etc/nfsha
cp /usr/share/doc/nfsha/examples/heartbeat.toml /etc/nfsha/heartbeat.toml
echo "# edited by the admin" >> /etc/nfsha/heartbeat.toml
check "nfsha dropin writes the node's nfs-server drop-in" \
    nfsha dropin --hostname nfs-ha --lease 90 --grace 90
admin_files=(/etc/nfsha/heartbeat.toml /etc/systemd/system/nfs-server.service.d/nfsha.conf)
sums="$(sha256sum "${admin_files[@]}")"
unchanged() { [ "$(sha256sum "${admin_files[@]}" 2>&1)" = "$sums" ]; }
not_owned() { for f in "${admin_files[@]}"; do ! dpkg -S "$f" || return 1; done; }
check "the admin's files belong to no package" not_owned

check "the admin enables the heartbeat" systemctl enable nfsha-heartbeat.service
enabled() { [ "$(systemctl is-enabled nfsha-heartbeat.service 2>&1)" = enabled ]; }
check "systemctl is-enabled: enabled" enabled

check "upgrade to $(basename "$next")" apt-get install -y -q "$next"
upgraded() { dpkg-query -W -f '${Version}' nfsha | grep -q '+pkgtest1$'; }
check "the new version is installed" upgraded
check "upgrade kept the admin's files byte for byte" unchanged
check "upgrade kept the heartbeat enabled" enabled

check "apt-get remove nfsha" apt-get remove -y -q nfsha
gone() { [ ! -e /usr/sbin/nfsha ] && [ ! -e /usr/lib/ocf/resource.d/nfsha ]; }
check "remove took the binary and the agent links" gone
check "remove kept the admin's files" unchanged

check "apt-get purge nfsha" apt-get purge -y -q nfsha
check "purge kept the admin's files" unchanged
no_link() { [ ! -e /etc/systemd/system/multi-user.target.wants/nfsha-heartbeat.service ] \
    && [ ! -L /etc/systemd/system/multi-user.target.wants/nfsha-heartbeat.service ]; }
check "purge removed the enablement link of the removed unit" no_link

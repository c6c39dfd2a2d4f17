#!/bin/bash
# Inside the test root, after `apt install ./nfsha_*.deb`: what the package
# put where, what it pulled in, and that Pacemaker's tools find the agents
# with nothing else installed.
. /tmp/pkgtest/lib.sh

status() { [ "$(dpkg-query -W -f '${db:Status-Status}' "$1")" = installed ]; }
check "nfsha is installed" status nfsha
depends="$(dpkg-query -W -f '${Depends}' nfsha)"
no_library() { ! grep -q 'lib' <<<"$depends"; }
check "Depends names no library (static binary): $depends" no_library
for p in iproute2 mount nfs-kernel-server drbd-utils pacemaker resource-agents; do
    check "$p came with it (Depends/Recommends)" status "$p"
done

agents=$(nfsha agents | cut -d' ' -f1)
links_are_the_agents() {
    [ "$(ls /usr/lib/ocf/resource.d/nfsha | sort)" = "$(sort <<<"$agents")" ]
}
check "/usr/lib/ocf/resource.d/nfsha holds exactly the agents of nfsha agents" links_are_the_agents
for a in $agents; do
    link="/usr/lib/ocf/resource.d/nfsha/$a"
    points_home() { [ -L "$link" ] && [ "$(readlink -f "$link")" = /usr/sbin/nfsha ]; }
    check "$link -> /usr/sbin/nfsha" points_home
    check "$link belongs to the package" dpkg -S "$link"
done

same_pages() {
    local dir file
    dir="$(mktemp -d)"
    nfsha man --out "$dir" >/dev/null
    for file in "$dir"/*; do
        file="$(basename "$file")"
        zcat "/usr/share/man/man${file##*.}/$file.gz" | cmp - "$dir/$file" || return 1
    done
    [ "$(ls "$dir" | wc -l)" -ge 20 ]
}
check "every man page nfsha man writes is installed, gzip'd, identical" same_pages
man_count() { [ "$(dpkg -L nfsha | grep -c '^/usr/share/man/man[78]/.*\.gz$')" = "$(nfsha man --out "$(mktemp -d)" | wc -l)" ]; }
check "and no other man page" man_count

bash_completion() { bash -c '. /usr/share/bash-completion/completions/nfsha && complete -p nfsha'; }
check "bash completion loads and completes nfsha" bash_completion
check "zsh completion in vendor-completions" grep -q '^#compdef nfsha' /usr/share/zsh/vendor-completions/_nfsha
check "fish completion in vendor_completions.d" grep -q 'complete -c nfsha' /usr/share/fish/vendor_completions.d/nfsha.fish

check "the heartbeat unit is installed" test -f /lib/systemd/system/nfsha-heartbeat.service
disabled() { [ "$(systemctl is-enabled nfsha-heartbeat.service 2>&1)" = disabled ]; }
check "and not enabled (systemctl is-enabled: disabled)" disabled
never_starts() {
    ! grep -HnE 'deb-systemd-invoke|systemctl[^|]*(start|restart|enable)' /var/lib/dpkg/info/nfsha.*
}
check "no maintainer script starts, restarts or enables a unit" never_starts
nothing_in_etc() {
    [ -z "$(dpkg-query -W -f '${Conffiles}' nfsha)" ] && ! dpkg -L nfsha | grep '^/etc'
}
check "the package owns nothing in /etc (admin files stay the admin's)" nothing_in_etc

for f in examples/nfs-cluster.crm examples/nfs-cluster.pcs.sh examples/fence-ipmi.crm \
    examples/fence-ipmi.pcs.sh examples/nfs.conf examples/heartbeat.toml \
    changelog.gz copyright crates.txt; do
    check "/usr/share/doc/nfsha/$f" test -s "/usr/share/doc/nfsha/$f"
done

# What an admin runs first: Pacemaker's tools, no cluster needed.
describe() {
    local out
    out="$(pcs resource describe ocf:nfsha:nfsserver)"
    contains "$out" "ocf:nfsha:nfsserver" "server_hostname" "state_directory (required)" "lease_time"
}
check "pcs resource describe ocf:nfsha:nfsserver" describe
listed() {
    local out
    out="$(crm_resource --list-agents ocf:nfsha)"
    for a in $agents; do grep -qx "$a" <<<"$out" || return 1; done
}
check "crm_resource --list-agents ocf:nfsha lists every agent" listed
crm_info() { contains "$(crm ra info ocf:nfsha:exportfs)" "fsid* (string)" "clientspec"; }
check "crm ra info ocf:nfsha:exportfs" crm_info

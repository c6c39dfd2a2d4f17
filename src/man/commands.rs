//! What each command's man page says beyond its options: exit status,
//! environment, files, examples and related pages. One entry per visible
//! command path ("" is nfsha(8) itself); `tests/man_pages.rs` fails when a
//! command has none.

use super::Extra;

const USAGE: (&str, &str) = (
    "2",
    "Usage error: an unknown option or a missing or invalid argument (the message names it).",
);

/// The entry for the command at `path` (`"heartbeat run"`).
pub fn extra(path: &str) -> Option<&'static Extra> {
    COMMANDS.iter().find(|(p, _)| *p == path).map(|(_, e)| e)
}

const COMMANDS: &[(&str, Extra)] = &[
    (
        "",
        Extra {
            description: "nfsha is one multi-call binary. Called through a link named after an \
                agent (/usr/lib/ocf/resource.d/nfsha/<agent>, which is how Pacemaker runs it) \
                it is that OCF resource agent, with the action as its only argument; called as \
                kvmheartbeat.sh it is CloudStack's KVM heartbeat script; called as nfsha it is \
                the command line described here.\n\n\
                On an NFS server node nfsha provides the agents of the NFS group (nfsstate, \
                nfsserver, exportfs, vip, in that order after the DRBD promotion) and writes the \
                nfs-server drop-in. On any machine nfsha lint checks cluster configurations. On a \
                KVM host the storage heartbeat renews a record on every VM-disk mount and fences \
                the host in stages when the storage is lost.",
            exit_status: &[
                ("0", "Success."),
                (
                    "1",
                    "The command ran and found a problem, or failed (each command's page says which).",
                ),
                USAGE,
            ],
            files: &[
                ("/usr/sbin/nfsha", "The binary."),
                (
                    "/usr/lib/ocf/resource.d/nfsha/",
                    "One link per agent to /usr/sbin/nfsha; Pacemaker finds the agents here as ocf:nfsha:<agent>.",
                ),
                (
                    "/etc/systemd/system/nfs-server.service.d/nfsha.conf",
                    "The nfs-server drop-in written by nfsha dropin on each server node. No package owns it.",
                ),
                (
                    "/etc/nfsha/heartbeat.toml",
                    "The KVM-host heartbeat configuration. No package owns it; the example is in /usr/share/doc/nfsha/examples/.",
                ),
                (
                    "/lib/systemd/system/nfsha-heartbeat.service",
                    "The heartbeat unit (/usr/lib/systemd/system/ on RPM systems), installed but not enabled.",
                ),
                ("/run/nfsha/", "Runtime state: the heartbeat's status file, the nfs-server start permit."),
            ],
            environment: &[
                (
                    "OCF_RESKEY_*, OCF_RESOURCE_INSTANCE, HA_LOGFILE, HA_debug",
                    "Read when nfsha runs as an agent; see the agent pages, e.g. ocf_nfsha_nfsserver(7).",
                ),
                (
                    "NFSHA_HEARTBEAT_CONFIG",
                    "The configuration kvmheartbeat.sh reads instead of /etc/nfsha/heartbeat.toml.",
                ),
            ],
            examples: &[
                ("nfsha agents", "List the agents this binary provides."),
                (
                    "pcs resource describe ocf:nfsha:nfsserver",
                    "Show an agent's parameters as Pacemaker sees them (crm ra info ocf:nfsha:nfsserver with crmsh).",
                ),
                (
                    "nfsha lint /usr/share/doc/nfsha/examples/nfs-cluster.crm /usr/share/doc/nfsha/examples/nfs.conf",
                    "Check the shipped two-node layout together with its nfs.conf.",
                ),
            ],
            see_also: &[
                "ocf_nfsha_nfsstate(7)",
                "ocf_nfsha_nfsserver(7)",
                "ocf_nfsha_exportfs(7)",
                "ocf_nfsha_vip(7)",
                "ocf_nfsha_storagehb(7)",
                "pcs(8)",
                "crm(8)",
            ],
        },
    ),
    (
        "agent",
        Extra {
            description: "Runs one action of an agent exactly as Pacemaker does through \
                /usr/lib/ocf/resource.d/nfsha/<agent>: the parameters come from the \
                OCF_RESKEY_<name> variables, the result is the exit status, messages go to \
                syslog or HA_LOGFILE. Useful to try an agent by hand or under ocf-tester.",
            exit_status: &[
                ("0", "OCF_SUCCESS: the action succeeded (monitor: running)."),
                ("1", "OCF_ERR_GENERIC: the action failed; the reason is logged and printed as ocf-exit-reason."),
                ("2", "OCF_ERR_ARGS: a parameter is invalid, or no agent has this name (usage errors too)."),
                ("3", "OCF_ERR_UNIMPLEMENTED: the agent has no such action."),
                ("5", "OCF_ERR_INSTALLED: a program the agent needs is missing (the message names the package)."),
                ("6", "OCF_ERR_CONFIGURED: the configuration cannot work on any node."),
                ("7", "OCF_NOT_RUNNING: monitor found the resource stopped."),
            ],
            files: &[(
                "/usr/lib/ocf/resource.d/nfsha/",
                "The agents as Pacemaker runs them; each agent's page lists the files it reads.",
            )],
            environment: &[
                ("OCF_RESKEY_<parameter>", "The agent's parameters."),
                ("OCF_RESOURCE_INSTANCE", "The resource's name, used in log lines."),
                ("HA_LOGFILE, HA_debug", "Log to this file as well; with HA_debug=1, debug lines too."),
            ],
            examples: &[
                (
                    "OCF_RESKEY_ip=192.0.2.10 OCF_RESKEY_cidr_netmask=24 nfsha agent vip validate-all",
                    "Check a vip configuration without changing anything.",
                ),
                ("nfsha agent nfsserver meta-data", "Print an agent's OCF meta-data."),
            ],
            see_also: &["ocf-tester(8)", "crm_resource(8)"],
        },
    ),
    (
        "agents",
        Extra {
            description: "Prints each agent's name and one-line description. Pacemaker knows \
                them as ocf:nfsha:<name>; each has a page ocf_nfsha_<name>(7).",
            exit_status: &[("0", "Always, unless the arguments are wrong."), USAGE],
            files: &[],
            environment: &[],
            examples: &[
                ("nfsha agents", "List the agents."),
                ("nfsha agents --markdown", "The parameter reference as Markdown, as in README.md."),
            ],
            see_also: &["crm_resource(8)"],
        },
    ),
    (
        "install",
        Extra {
            description: "Copies the binary to <prefix>/sbin/nfsha (beside the old one, then \
                renamed over it, so running agents keep their file) and makes \
                <ocf-root>/resource.d/nfsha/<agent> a link to it for every agent. Idempotent: \
                it prints installed, linked or unchanged for every path. The Debian and RPM \
                packages are laid out by the same code; on a packaged system use the package \
                instead.",
            exit_status: &[
                ("0", "Everything is in place."),
                ("1", "A file could not be written, or an agent's path exists and is not a link (it is not replaced)."),
                USAGE,
            ],
            files: &[
                ("/usr/sbin/nfsha", "The installed binary (with the default prefix)."),
                ("/usr/lib/ocf/resource.d/nfsha/<agent>", "One link per agent."),
            ],
            environment: &[],
            examples: &[
                ("nfsha install", "Install this binary and the agent links below /usr."),
                (
                    "nfsha install --destdir /tmp/stage",
                    "Stage the files below /tmp/stage for packaging; the links point at /usr/sbin/nfsha.",
                ),
            ],
            see_also: &[],
        },
    ),
    (
        "dropin",
        Extra {
            description: "Writes the drop-in that makes nfs-server.service fit the NFS group: \
                rpc.nfsd starts in a new UTS namespace with the service's host name (so NFSv4.1 \
                clients see the same server owner and scope on every node) and with the lease \
                and grace times, and the unit starts only while /run/nfsha/nfs-server.allow \
                exists, which only the nfsserver agent creates, so nfs-server never starts \
                outside Pacemaker. Run it on every server node with the values of the nfsserver \
                resource, then systemctl daemon-reload. The file is the admin's: packages \
                neither ship nor remove it.",
            exit_status: &[
                ("0", "Written, unchanged, or printed."),
                ("1", "The file could not be written."),
                ("2", "An invalid host name, lease or grace time, or a usage error."),
            ],
            files: &[
                (
                    "/etc/systemd/system/nfs-server.service.d/nfsha.conf",
                    "The drop-in (below --root when given).",
                ),
                (
                    "/etc/systemd/system/rpc-statd-notify.service.d/nfsha.conf",
                    "Keeps rpc-statd-notify from notifying NFSv3 clients under the node's own name while the cluster runs nfs-server; the vip notifies them once the address is up.",
                ),
                ("/run/nfsha/nfs-server.allow", "Its start condition."),
            ],
            environment: &[],
            examples: &[
                (
                    "nfsha dropin --hostname nfs-ha --lease 90 --grace 90\nsystemctl daemon-reload",
                    "Write the drop-in for the server_hostname nfs-ha.",
                ),
                ("nfsha dropin --hostname nfs-ha --print", "Show it without writing."),
            ],
            see_also: &["ocf_nfsha_nfsserver(7)", "systemd.unit(5)", "rpc.nfsd(8)", "unshare(1)"],
        },
    ),
    (
        "lint",
        Extra {
            description: "Reads cluster configurations (CIB XML, crm configure show text, pcs \
                commands, pcs config output) and the host files that go with them (nfs.conf, \
                /etc/sysconfig/nfs, /etc/exports, the heartbeat TOML), detects each file's \
                format, builds one cluster model and reports the mistakes that lose NFS locks \
                or get nodes fenced: wrong start order, NFS servers in clones, state that does \
                not fail over, short leases, lease waits on stop, missing fencing. Each finding \
                has a code (nfsha lint --explain CODE), the objects and line involved, and the \
                fix in crm and pcs syntax; nfsha's own agents and the heartbeat daemon check \
                their settings with their own code, so a configuration that lints clean starts. \
                --fix writes the mechanical fixes as a crm or pcs script that changes only the \
                CIB file named by CIB_file (and, with --fix-output, the corrected CIB). \
                --mounts checks a KVM host's NFS client mounts. Without files, on a cluster \
                node, it reads the live CIB with cibadmin -Q.",
            exit_status: &[
                ("0", "No finding at or above --fail-on (default error)."),
                ("1", "At least one finding at or above --fail-on."),
                (
                    "2",
                    "Unreadable input, an unknown format, a bad suppression file or rule code, or a usage error; the message names the file and line.",
                ),
            ],
            files: &[(
                "/etc/nfs.conf, /etc/nfs.conf.d/*.conf",
                "Read when named on the command line (with their includes).",
            )],
            environment: &[(
                "PATH",
                "Where cibadmin is looked up when no file is given.",
            )],
            examples: &[
                ("nfsha lint", "Check the live cluster (on a cluster node)."),
                (
                    "crm configure show > cluster.crm\nnfsha lint cluster.crm /etc/nfs.conf",
                    "Check a crm dump together with the node's nfs.conf.",
                ),
                (
                    "nfsha lint --format sarif --fail-on warning cib.xml > lint.sarif",
                    "Fail a CI job on warnings too, with SARIF output.",
                ),
                ("nfsha lint --explain NFS104", "Explain one rule."),
                (
                    "cibadmin -Q > cib.xml\nnfsha lint --fix cib.xml > fix.sh\nCIB_file=cib.xml sh fix.sh && crm_verify -x cib.xml",
                    "Fix what is mechanical in a copy of the CIB, then check it.",
                ),
                ("nfsha lint --mounts /proc/mounts", "Check this KVM host's NFS mounts."),
                (
                    "nfsha lint --nfs-utils 2.6.2 cluster.crm /etc/nfs.conf",
                    "Count only what Debian 12's nfs-utils honours (it ignores nfs.conf [nfsd] scope).",
                ),
            ],
            see_also: &["nfsha-order(8)", "crm_verify(8)", "cibadmin(8)", "nfs.conf(5)", "mount(8)"],
        },
    ),
    (
        "order",
        Extra {
            description: "Prints the start sequence Pacemaker derives from a configuration's \
                groups and order constraints (stop is the reverse), and the edges behind it. \
                It is the order nfsha lint checks; it agrees with Pacemaker's own transition \
                graphs on its scheduler regression tests.",
            exit_status: &[
                ("0", "Printed."),
                ("2", "The file is unreadable or not a cluster configuration, or a usage error."),
            ],
            files: &[],
            environment: &[],
            examples: &[
                (
                    "nfsha order /usr/share/doc/nfsha/examples/nfs-cluster.crm",
                    "The start order of the shipped layout.",
                ),
                ("nfsha order --format json cib.xml", "The same, as JSON."),
            ],
            see_also: &["nfsha-lint(8)", "crm_verify(8)"],
        },
    ),
    (
        "completions",
        Extra {
            description: "Prints a completion script for the shell. The packages install them \
                where each shell finds them: bash in /usr/share/bash-completion/completions/, \
                zsh in /usr/share/zsh/vendor-completions/ (site-functions on RPM systems), fish \
                in /usr/share/fish/vendor_completions.d/.",
            exit_status: &[("0", "Printed."), USAGE],
            files: &[],
            environment: &[],
            examples: &[(
                "nfsha completions bash > ~/.local/share/bash-completion/completions/nfsha",
                "Install bash completion for one user on a source install.",
            )],
            see_also: &[],
        },
    ),
    (
        "man",
        Extra {
            description: "Writes these pages: nfsha.8, one nfsha-<command>.8 per command (for \
                nested commands too, e.g. nfsha-heartbeat-run.8) and one ocf_nfsha_<agent>.7 \
                per agent, generated from the program's own command and parameter tables. The \
                packages run it at build time.",
            exit_status: &[("0", "Written."), ("1", "A page could not be written."), USAGE],
            files: &[],
            environment: &[],
            examples: &[(
                "nfsha man --out /tmp/man && man -l /tmp/man/nfsha.8",
                "Write the pages and read one.",
            )],
            see_also: &[],
        },
    ),
    (
        "status",
        Extra {
            description: "Shows what this node is doing, in one screen or one JSON object \
                (--json, schema nfsha-status/1). On an NFS server node: whether nfsd runs and \
                whether the cluster started it, the nfsha resources active here, the NFSv4.1 \
                server scope in effect, lease and grace time configured and running, the grace \
                left after a start (and whether it ended early), the NFSv4 clients nfsd knows \
                and how many have reclaimed (from nfsdcld's database), the exports with their \
                fsid, the DRBD role and disk state, and the connection records kept for \
                tickling. On a KVM host: the storage heartbeat, as nfsha heartbeat status shows \
                it.\n\n\
                It never waits on storage or on Pacemaker: it reads the kernel's interfaces and \
                tmpfs itself, and every file on a disk (nfs.conf, etab, the drop-in, nfsdcld's \
                database on the replicated state directory) in a child process that is \
                abandoned after --timeout. What it cannot read is shown as unknown with the \
                reason.",
            exit_status: &[
                ("0", "Every figure was read and nothing needs attention."),
                ("1", "A problem is listed (e.g. an nfsd the cluster did not start, a failing heartbeat)."),
                ("2", "Usage error."),
                ("3", "No problem, but some figure could not be read (shown as unknown with the reason)."),
            ],
            files: &[
                ("/proc/fs/nfsd/", "threads, versions, nfsv4leasetime, nfsv4gracetime, v4_end_grace, clients/*/info."),
                ("/dev/kmsg", "The kernel's grace period messages (NFSD: starting 90-second grace period …)."),
                ("/run/resource-agents/nfsha-*", "The markers the nfsha agents leave for what they started here."),
                ("/etc/nfs.conf, /etc/nfs.conf.d/", "Lease, grace, scope, nfsdcld's storagedir (read by a child)."),
                ("<storagedir>/main.sqlite", "nfsdcld's client database: who may reclaim and who has (read by a child)."),
                ("/var/lib/nfs/etab", "The exports (read by a child)."),
                ("/proc/drbd", "DRBD 8.4; DRBD 9 is asked with drbdsetup status --json."),
                ("/run/nfsha/heartbeat-status.json", "The heartbeat daemon's status on a KVM host."),
            ],
            environment: &[(
                "HA_RSCTMP",
                "Where the agents' markers are (default /run/resource-agents).",
            )],
            examples: &[
                ("nfsha status", "What this node is doing."),
                (
                    "watch -n1 nfsha status",
                    "Watch the grace left and the reclaims during a failover.",
                ),
                (
                    "nfsha status --json | jq .server.grace.remaining_s",
                    "The seconds of grace left, for a script.",
                ),
            ],
            see_also: &["nfsha-heartbeat-status(8)", "ocf_nfsha_nfsserver(7)", "nfsdcld(8)"],
        },
    ),
    (
        "heartbeat",
        Extra {
            description: "The KVM-host storage heartbeat. The daemon (nfsha heartbeat run, \
                started by nfsha-heartbeat.service) renews this host's slot in the lease area \
                of every configured storage, in place, through a helper process it never \
                waits for, so a hung mount never blocks it and the NFS server's failover and \
                grace period do not stop renewals; it publishes its state in /run/nfsha, and \
                fences the host in stages when renewals keep failing. The other commands read that state or \
                the configuration and never wait on the storage. The unit is installed but \
                not enabled: configure /etc/nfsha/heartbeat.toml, check it with nfsha \
                heartbeat validate and timeline, then systemctl enable --now \
                nfsha-heartbeat.",
            exit_status: &[("0", "Success."), USAGE],
            files: &[
                ("/etc/nfsha/heartbeat.toml", "The configuration."),
                ("/lib/systemd/system/nfsha-heartbeat.service", "The unit (/usr/lib/systemd/system/ on RPM systems)."),
                ("/run/nfsha/heartbeat-status.json", "The daemon's status (run_dir in the configuration)."),
                ("<mount>/.nfsha/leases", "The lease area on each storage: one slot per host."),
            ],
            environment: &[],
            examples: &[
                (
                    "nfsha heartbeat validate && nfsha heartbeat timeline\nsystemctl enable --now nfsha-heartbeat",
                    "Check the configuration and its fence timeline, then start the daemon.",
                ),
            ],
            see_also: &["ocf_nfsha_storagehb(7)", "nfsha-guard(8)", "systemctl(1)"],
        },
    ),
    (
        "heartbeat run",
        Extra {
            description: "The daemon. Each interval it rewrites this host's slot in the lease \
                area of every [[storage]] mount, in place, and reads the peers' slots, through \
                one long-lived helper per storage that keeps the area open (no new NFSv4 state \
                per renewal); a renewal without an answer after io_timeout counts as failed and \
                its helper is left to finish. It rewrites the status file at least every second \
                and, when renewals on a storage with fence = true fail for fence_after, carries \
                out fence_action (log-only, restart-agent, graceful-reboot escalating to the \
                reboot system call by time, reboot at once, or stopping the VMs on that \
                storage), logged with its cause first. A storage that never renewed since boot \
                does not fence. With a configuration it cannot use it does not exit: it runs \
                fail-safe on built-in defaults and says so.",
            exit_status: &[
                ("0", "Stopped by SIGTERM or SIGINT."),
                ("1", "Could not run at all."),
            ],
            files: &[
                ("/etc/nfsha/heartbeat.toml", "The configuration (--config)."),
                ("/run/nfsha/heartbeat-status.json", "The status it publishes."),
                ("<mount>/.nfsha/leases", "The lease areas it renews and reads."),
                ("/dev/watchdog", "Opened when the configuration has a [watchdog] section."),
            ],
            environment: &[(
                "NFSHA_SYSLOG_SOCKET",
                "The syslog socket instead of /dev/log (without --log-stderr).",
            )],
            examples: &[(
                "nfsha heartbeat run --config /etc/nfsha/heartbeat.toml --log-stderr",
                "Run in the foreground (normally systemd starts it).",
            )],
            see_also: &["systemctl(1)"],
        },
    ),
    (
        "heartbeat status",
        Extra {
            description: "Prints the daemon's state from its status file: per storage the \
                state, sequence number, time since the last renewal, how long renewals have \
                been failing, helpers stuck in the kernel, the renewal history and the peers; \
                the fence state and the watchdog. It never touches the storage, so it answers \
                at once while every mount hangs.",
            exit_status: &[
                ("0", "Every storage renews, no fence decision stands, the configuration is valid."),
                ("1", "A storage is failing, a fence decision stands, or the daemon runs fail-safe."),
                ("2", "A usage error."),
                (
                    "3",
                    "No status file, or not updated for over 2 intervals + 2 s: the daemon is stopped or hung.",
                ),
            ],
            files: &[
                ("/etc/nfsha/heartbeat.toml", "Where the status file is (run_dir)."),
                ("/run/nfsha/heartbeat-status.json", "The status read."),
            ],
            environment: &[],
            examples: &[
                ("nfsha heartbeat status", "The daemon's state."),
                ("nfsha heartbeat status --json", "The same, as JSON."),
            ],
            see_also: &[],
        },
    ),
    (
        "heartbeat check",
        Extra {
            description: "Judges whether a peer host is alive from its records: alive only \
                when its sequence number changed recently on this host's clock, dead only \
                when it has not changed for the peer's dead_after and the peer fences itself. \
                It answers from the daemon's observations when it has them, otherwise it reads \
                the records itself with a deadline, watching for up to --wait.",
            exit_status: &[
                ("0", "Alive."),
                ("1", "Dead: safe to restart its VMs elsewhere."),
                ("2", "The configuration or --host is invalid, or a usage error."),
                ("3", "Unknown: missing or unreadable records, a hung storage, or too few observations."),
                ("4", "Not fenced: its record is stale but it does not fence itself; only an operator may act."),
            ],
            files: &[
                ("/etc/nfsha/heartbeat.toml", "The storages and the peers' settings."),
                ("/run/nfsha/", "The daemon's observations."),
                ("<mount>/.nfsha/leases", "The lease area holding the peer's record."),
            ],
            environment: &[],
            examples: &[(
                "nfsha heartbeat check --host kvm2 --wait 30s",
                "Is kvm2 alive? Watch for up to 30 s when there is no observation yet.",
            )],
            see_also: &[],
        },
    ),
    (
        "heartbeat timeline",
        Extra {
            description: "Prints when this host fences itself after its storage is lost, \
                step by step, and the dead_after its peers must wait before they may treat it \
                as dead.",
            exit_status: &[
                ("0", "Printed."),
                ("2", "The configuration is unreadable or invalid, or a usage error."),
            ],
            files: &[("/etc/nfsha/heartbeat.toml", "The configuration (--config).")],
            environment: &[],
            examples: &[("nfsha heartbeat timeline", "The fence timeline of this host.")],
            see_also: &[],
        },
    ),
    (
        "heartbeat validate",
        Extra {
            description: "Checks a configuration file for everything nfsha heartbeat run would \
                meet (a missing [[storage]] included) and prints every error with its file, \
                line and key; for a valid file, every effective value ([nfs_server], \
                [watchdog] and [cloudstack] included) marked set, default or derived, the \
                warnings, and whether an NFS server failover with a full grace period can \
                fence this host.",
            exit_status: &[
                ("0", "Valid."),
                ("2", "Unreadable or invalid; each error names its line, key and value."),
            ],
            files: &[("/etc/nfsha/heartbeat.toml", "The configuration (--config).")],
            environment: &[],
            examples: &[(
                "nfsha heartbeat validate --config /usr/share/doc/nfsha/examples/heartbeat.toml",
                "Check the shipped example.",
            )],
            see_also: &[],
        },
    ),
    (
        "heartbeat fence",
        Extra {
            description: "Fences this host now, as CloudStack's kvmheartbeat.sh -c does. The \
                running heartbeat daemon takes any fence; without one, a one-step action \
                (reboot, restart-agent, log-only) is carried out here and a staged one \
                (graceful-reboot, the pool actions) is handed to a detached process (a \
                transient systemd unit, nfsha-fence.service, under systemd), so that it \
                completes and escalates even when the caller is killed. --run carries the \
                fence out in this process (what the detached process runs).",
            exit_status: &[
                ("0", "Handed over, or done."),
                ("1", "Nobody could take it (the message says why)."),
                ("2", "A usage error."),
            ],
            files: &[("/etc/nfsha/heartbeat.toml", "The action and its commands (--config); fail-safe values if it is broken.")],
            environment: &[],
            examples: &[(
                "nfsha heartbeat fence --cause 'storage lost'",
                "Fence with the configured fence_action.",
            )],
            see_also: &["systemctl(1)"],
        },
    ),
    (
        "guard",
        Extra {
            description: "Runs a job (a backup, a copy, qemu-img convert) in its own process \
                group with a hard deadline. At the deadline the group gets SIGTERM, then \
                SIGKILL after --kill-grace; then each --on-timeout command runs (split into \
                words, never through a shell, each with --cleanup-timeout). A child stuck in \
                the kernel on a hung mount is reported and abandoned, never waited for, and \
                the job's output is relayed so a stuck child never holds the caller's output \
                open.",
            exit_status: &[
                ("N", "The job's own exit status (128 + the signal number when a signal ended it)."),
                ("2", "Usage error, or an --on-timeout command that cannot be split into words."),
                ("124", "The deadline passed (or guard was interrupted) and the job was killed."),
                ("125", "The job could not be started."),
            ],
            files: &[],
            environment: &[],
            examples: &[(
                "nfsha guard --timeout 6h --on-timeout 'virsh domfsthaw vm1' -- /usr/local/bin/backup vm1",
                "Back up with a 6-hour limit and thaw the guest if it is cut short.",
            )],
            see_also: &["nfsha-heartbeat(8)"],
        },
    ),
];

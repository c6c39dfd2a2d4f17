//! A storage's lease area: one pre-allocated file, `<mount>/.nfsha/leases`,
//! of 512-byte slots, one per host, as sanlock's delta leases. Each host
//! rewrites only its own slot, in place, with the file kept open; peers read
//! the whole area in one I/O. A renewal therefore needs no new NFSv4 state
//! (no OPEN, no CREATE, no RENAME): after a server failover the client
//! reclaims its open and renewals go on during the grace period, and the
//! cost per host is one WRITE and one READ per interval whatever the number
//! of hosts.
//!
//! This module is pure: where a host's slot is, which slot a new host takes,
//! what a read of the area says. The I/O lives in [`super::area_io`].
//!
//! Slot allocation: a host reuses the slot that names it; otherwise it takes
//! the lowest free (all-zero) slot. Two hosts that take the same free slot at
//! the same moment see each other's name there on their next read, and the
//! one that finds a foreign name moves on (see [`SlotCheck`]). Two hosts
//! *configured* with the same `host_id` (a copied configuration) both write
//! the one slot naming it; each sees the other's generation there and
//! reports it loudly, and peers that see the generation alternate answer
//! `unknown` for that host (see [`super::peer`]).

use std::path::{Path, PathBuf};

use super::record::{Record, SLOT_SIZE};

/// At most this many slots (1 MiB, as sanlock's lockspace on NFS).
pub const MAX_SLOTS: usize = 2000;
/// A read asks for at least this much (128 slots), so small areas cost one READ.
pub const MIN_READ: usize = 64 * 1024;

/// The lease area of the storage mounted at `mount`.
pub fn path(mount: &Path) -> PathBuf {
    mount.join(".nfsha/leases")
}

/// What one slot holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Slot {
    /// All zeros, or beyond the end of the file.
    Free,
    Record(Record),
    /// Not a valid record: torn by a concurrent write, damaged, or written by
    /// a newer nfsha (the reason says which).
    Bad(String),
}

/// Split the bytes of an area read into slots (a short last slot is a torn
/// or short read: bad).
pub fn parse(bytes: &[u8]) -> Vec<Slot> {
    bytes
        .chunks(SLOT_SIZE)
        .map(|c| {
            if c.iter().all(|&b| b == 0) {
                Slot::Free
            } else if c.len() < SLOT_SIZE {
                Slot::Bad(format!("short slot ({} bytes)", c.len()))
            } else {
                match Record::decode(c) {
                    Ok(r) => Slot::Record(r),
                    Err(e) => Slot::Bad(e),
                }
            }
        })
        .collect()
}

/// The slots whose record names `host`.
pub fn slots_of(slots: &[Slot], host: &str) -> Vec<usize> {
    slots
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s, Slot::Record(r) if r.host == host))
        .map(|(i, _)| i)
        .collect()
}

/// Where a host should write, given a read of the area.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    /// The slot already naming this host (from an earlier run, or its own).
    Reuse(usize),
    /// The lowest free slot.
    Take(usize),
    /// Every slot is taken.
    Full,
}

/// Choose this host's slot. `avoid` are slots it must not take (one it
/// lost to another host).
pub fn choose(slots: &[Slot], host: &str, avoid: &[usize]) -> Choice {
    if let Some(&i) = slots_of(slots, host).iter().find(|i| !avoid.contains(i)) {
        return Choice::Reuse(i);
    }
    (0..MAX_SLOTS)
        .find(|i| !avoid.contains(i) && matches!(slots.get(*i), None | Some(Slot::Free)))
        .map_or(Choice::Full, Choice::Take)
}

/// What this host's own slot says on a read, compared with what it wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlotCheck {
    /// Our last record, or one we cannot have written yet (not written or
    /// not read far enough): nothing to say.
    Ours,
    /// Our host name with another generation: another writer renews under
    /// our `host_id`.
    ForeignWriter { generation: u64, seq: u64 },
    /// Another host's record: it took the slot (it read it free at the same
    /// time as we did). We move.
    Taken { by: String },
    /// Unreadable (torn by a write racing this read, or damaged).
    Bad(String),
}

/// Check slot `index` of a read against the (generation, seq) we last wrote.
pub fn check_own(
    slots: &[Slot],
    index: usize,
    host: &str,
    generation: u64,
    last_seq: Option<u64>,
) -> SlotCheck {
    // Another host's record in the slot we chose is a lost race whether or
    // not a write of ours was confirmed: the helper never writes over it, so
    // waiting for a confirmation would keep this host from renewing forever.
    if let Some(Slot::Record(r)) = slots.get(index) {
        if r.host != host {
            return SlotCheck::Taken { by: r.host.clone() };
        }
    }
    let Some(last_seq) = last_seq else {
        return SlotCheck::Ours;
    };
    match slots.get(index) {
        None | Some(Slot::Free) => SlotCheck::Ours,
        Some(Slot::Bad(e)) => SlotCheck::Bad(e.clone()),
        Some(Slot::Record(r)) if r.host != host => SlotCheck::Taken { by: r.host.clone() },
        Some(Slot::Record(r)) if r.generation != generation => SlotCheck::ForeignWriter {
            generation: r.generation,
            seq: r.seq,
        },
        // Same generation: ours, possibly an older seq if a later write is
        // still in flight.
        Some(Slot::Record(r)) if r.seq <= last_seq => SlotCheck::Ours,
        Some(Slot::Record(r)) => SlotCheck::ForeignWriter {
            generation: r.generation,
            seq: r.seq,
        },
    }
}

/// Whether a host may write `slot` (its encoded record) at `index`, given
/// the area just read: not over another host's record. Two hosts that took
/// the same free slot at once thus settle it: the first to read the other's
/// name there gives the slot up, without writing over it.
pub fn may_write(area: &[u8], index: usize, slot: &[u8]) -> bool {
    let Ok(ours) = Record::decode(slot) else {
        return false;
    };
    match parse(area).get(index) {
        Some(Slot::Record(r)) => r.host == ours.host,
        // Free, beyond what was read, or unreadable (a torn write of ours).
        _ => true,
    }
}

/// How many bytes the next read of the area should ask for: enough for every
/// slot seen so far and our own, plus room to grow; at least [`MIN_READ`],
/// at most the whole area. A read that came back full asks for twice as much.
pub fn read_len(last_len: usize, last_full: bool, own: Option<usize>) -> usize {
    let need = last_len.max(own.map_or(0, |i| (i + 1) * SLOT_SIZE));
    let want = if last_full {
        need * 2
    } else {
        need + SLOT_SIZE
    };
    want.clamp(MIN_READ, MAX_SLOTS * SLOT_SIZE)
        .next_multiple_of(4096)
        .min(MAX_SLOTS * SLOT_SIZE)
}

/// The byte offset of slot `index`.
pub fn offset(index: usize) -> u64 {
    (index * SLOT_SIZE) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heartbeat::fence::FenceAction;
    use crate::heartbeat::record::WriterState;

    fn rec(host: &str, generation: u64, seq: u64) -> Record {
        Record {
            host: host.into(),
            generation,
            seq,
            mono_ms: 1,
            wall_ms: 2,
            interval_ms: 10_000,
            io_timeout_ms: 10_000,
            dead_after_ms: 200_000,
            fence_action: FenceAction::Reboot,
            state: WriterState::Ok,
            failing_ms: 0,
        }
    }

    fn area(slots: &[Option<Record>]) -> Vec<u8> {
        slots
            .iter()
            .flat_map(|s| match s {
                Some(r) => r.encode_slot().unwrap(),
                None => vec![0; SLOT_SIZE],
            })
            .collect()
    }

    #[test]
    fn parses_free_records_and_damage() {
        let mut bytes = area(&[Some(rec("kvm1", 1, 5)), None, Some(rec("kvm3", 3, 9))]);
        let slots = parse(&bytes);
        assert_eq!(slots.len(), 3);
        assert_eq!(slots[1], Slot::Free);
        assert!(matches!(&slots[2], Slot::Record(r) if r.host == "kvm3"));
        bytes[2 * SLOT_SIZE + 30] ^= 1;
        bytes.truncate(3 * SLOT_SIZE - 7);
        let slots = parse(&bytes);
        assert!(
            matches!(&slots[2], Slot::Bad(e) if e.contains("short")),
            "{slots:?}"
        );
        bytes.truncate(3 * SLOT_SIZE - SLOT_SIZE);
        bytes.extend(vec![0u8; SLOT_SIZE]);
        bytes[2 * SLOT_SIZE] = b'x';
        assert!(matches!(&parse(&bytes)[2], Slot::Bad(_)));
    }

    #[test]
    fn a_host_reuses_its_slot_or_takes_the_lowest_free_one() {
        let slots = parse(&area(&[
            Some(rec("kvm1", 1, 5)),
            None,
            Some(rec("kvm3", 3, 9)),
        ]));
        assert_eq!(choose(&slots, "kvm3", &[]), Choice::Reuse(2));
        assert_eq!(choose(&slots, "kvm2", &[]), Choice::Take(1));
        assert_eq!(
            choose(&slots, "kvm2", &[1]),
            Choice::Take(3),
            "past the end is free"
        );
        assert_eq!(choose(&[], "kvm9", &[]), Choice::Take(0));
        assert_eq!(
            choose(&slots, "kvm3", &[2]),
            Choice::Take(1),
            "a lost slot is not reused"
        );
        let full: Vec<Slot> = (0..MAX_SLOTS)
            .map(|i| Slot::Record(rec(&format!("h{i}"), 1, 1)))
            .collect();
        assert_eq!(choose(&full, "new", &[]), Choice::Full);
        assert_eq!(slots_of(&slots, "kvm1"), vec![0]);
    }

    #[test]
    fn own_slot_checks() {
        let slots = parse(&area(&[Some(rec("kvm1", 7, 5)), Some(rec("kvm2", 8, 1))]));
        assert_eq!(check_own(&slots, 0, "kvm1", 7, Some(5)), SlotCheck::Ours);
        assert_eq!(
            check_own(&slots, 0, "kvm1", 7, Some(6)),
            SlotCheck::Ours,
            "write in flight"
        );
        assert_eq!(
            check_own(&slots, 0, "kvm1", 7, Some(4)),
            SlotCheck::ForeignWriter {
                generation: 7,
                seq: 5
            },
            "a seq we never wrote"
        );
        assert_eq!(
            check_own(&slots, 0, "kvm1", 9, Some(5)),
            SlotCheck::ForeignWriter {
                generation: 7,
                seq: 5
            }
        );
        assert_eq!(
            check_own(&slots, 1, "kvm1", 7, Some(5)),
            SlotCheck::Taken { by: "kvm2".into() }
        );
        assert_eq!(
            check_own(&slots, 0, "kvm1", 9, None),
            SlotCheck::Ours,
            "nothing written yet"
        );
        // Two hosts took the same free slot at once; the other one's write
        // landed and ours never will (the helper does not write over it).
        assert_eq!(
            check_own(&slots, 1, "kvm1", 7, None),
            SlotCheck::Taken { by: "kvm2".into() },
            "a lost race is seen before any write of ours is confirmed"
        );
        assert_eq!(
            check_own(&slots, 5, "kvm1", 9, Some(1)),
            SlotCheck::Ours,
            "not read that far"
        );
        let mut bytes = area(&[Some(rec("kvm1", 7, 5))]);
        bytes[100] ^= 0x20;
        assert!(matches!(
            check_own(&parse(&bytes), 0, "kvm1", 7, Some(5)),
            SlotCheck::Bad(_)
        ));
    }

    #[test]
    fn never_over_another_hosts_record() {
        let area = area(&[Some(rec("kvm2", 1, 1)), None]);
        let mine = rec("kvm1", 9, 1).encode_slot().unwrap();
        assert!(!may_write(&area, 0, &mine));
        assert!(may_write(&area, 1, &mine), "free");
        assert!(may_write(&area, 7, &mine), "beyond the end");
        let same = rec("kvm2", 5, 1).encode_slot().unwrap();
        assert!(
            may_write(&area, 0, &same),
            "same host, other generation: written (and reported)"
        );
        assert!(!may_write(&area, 1, &[0; SLOT_SIZE]), "not a record");
    }

    #[test]
    fn read_lengths_cover_every_slot_and_grow() {
        assert_eq!(read_len(0, false, None), MIN_READ);
        assert_eq!(
            read_len(0, false, Some(300)),
            155_648,
            "our own slot 300 is covered"
        );
        assert!(read_len(0, false, Some(300)) >= 301 * SLOT_SIZE);
        assert_eq!(read_len(MIN_READ, true, None), 2 * MIN_READ);
        assert_eq!(read_len(900_000, true, None), MAX_SLOTS * SLOT_SIZE);
        assert_eq!(offset(3), 1536);
        assert_eq!(
            path(Path::new("/mnt/p")),
            PathBuf::from("/mnt/p/.nfsha/leases")
        );
    }
}

//! The lease area's system calls: open with `O_DIRECT | O_DSYNC` where the
//! filesystem allows it, one `pread` of the area, one `pwrite` of this
//! host's slot. Only helper processes call these (a call may hang for as
//! long as the storage does).
//!
//! On NFS, `O_DIRECT` bypasses the client's page cache, so every read is a
//! READ to the server (a buffered read of a file kept open would be served
//! from cache and never see peers' renewals), and a one-slot write fits one
//! WRITE sent `FILE_SYNC` (the client's direct path sends a request that
//! fits one RPC as stable), so no COMMIT follows. A filesystem that refuses
//! `O_DIRECT` (or its alignment) is used buffered with `O_DSYNC`: the write
//! then reaches the storage before `pwrite` returns, and local filesystems'
//! page caches are coherent anyway.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::lease_area::offset;
use super::record::SLOT_SIZE;

/// Buffers for `O_DIRECT` are aligned to the largest logical block size.
const ALIGN: usize = 4096;

/// A zeroed, `ALIGN`-aligned buffer.
struct Aligned {
    ptr: *mut u8,
    len: usize,
}

impl Aligned {
    fn new(len: usize) -> Aligned {
        let len = len.max(1).next_multiple_of(ALIGN);
        let layout = Layout::from_size_align(len, ALIGN).expect("valid layout");
        // SAFETY: a non-zero size with a valid alignment.
        let ptr = unsafe { alloc_zeroed(layout) };
        assert!(!ptr.is_null(), "out of memory for a {len}-byte buffer");
        Aligned { ptr, len }
    }
    fn as_mut(&mut self) -> &mut [u8] {
        // SAFETY: ptr is valid for len bytes, owned by self.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for Aligned {
    fn drop(&mut self) {
        // SAFETY: allocated in new() with this very layout.
        unsafe {
            dealloc(
                self.ptr,
                Layout::from_size_align(self.len, ALIGN).expect("valid"),
            )
        }
    }
}

/// An open lease area.
pub struct AreaFile {
    file: File,
    /// Opened with `O_DIRECT`.
    pub direct: bool,
}

fn open_with(path: &Path, create: bool, direct: bool) -> io::Result<File> {
    let mut flags = libc::O_DSYNC;
    if direct {
        flags |= libc::O_DIRECT;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .mode(0o644)
        .custom_flags(flags)
        .open(path)
}

impl AreaFile {
    /// Open the area at `path` read-write; with `create`, make it (and its
    /// directory) if missing.
    pub fn open(path: &Path, create: bool) -> io::Result<AreaFile> {
        if create {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
        }
        match open_with(path, create, true) {
            Ok(file) => Ok(AreaFile { file, direct: true }),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(AreaFile {
                file: open_with(path, create, false)?,
                direct: false,
            }),
            Err(e) => Err(e),
        }
    }

    /// Leave `O_DIRECT` (the filesystem refused its alignment).
    fn buffered(&mut self) -> io::Result<()> {
        // SAFETY: fcntl on our own descriptor.
        let fd = self.file.as_raw_fd();
        let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if fl < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, fl & !libc::O_DIRECT) } < 0 {
            return Err(io::Error::last_os_error());
        }
        self.direct = false;
        Ok(())
    }

    /// Read up to `len` bytes from the start (less at the end of the file).
    pub fn read(&mut self, len: usize) -> io::Result<Vec<u8>> {
        let mut buf = Aligned::new(len);
        let mut got = 0;
        loop {
            let want = buf.len.min(len.next_multiple_of(ALIGN));
            if got >= want {
                break;
            }
            let dst = &mut buf.as_mut()[got..want];
            // SAFETY: pread into a buffer we own; offset is where we are.
            let n = unsafe {
                libc::pread(
                    self.file.as_raw_fd(),
                    dst.as_mut_ptr().cast(),
                    dst.len(),
                    got as libc::off_t,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EINTR) => continue,
                    Some(libc::EINVAL) if self.direct => {
                        self.buffered()?;
                        continue;
                    }
                    _ => return Err(e),
                }
            }
            let n = n as usize;
            got += n;
            // A short read is the end of the file: no second call to learn it.
            if n < dst.len() {
                break;
            }
        }
        let mut out = buf.as_mut()[..got.min(len)].to_vec();
        out.truncate(len);
        Ok(out)
    }

    /// Write `slot` (exactly one slot) at slot `index`, in place.
    pub fn write_slot(&mut self, index: usize, slot: &[u8]) -> io::Result<()> {
        if slot.len() != SLOT_SIZE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a slot is {SLOT_SIZE} bytes, not {}", slot.len()),
            ));
        }
        let mut buf = Aligned::new(SLOT_SIZE);
        buf.as_mut()[..SLOT_SIZE].copy_from_slice(slot);
        loop {
            // SAFETY: pwrite from a buffer we own.
            let n = unsafe {
                libc::pwrite(
                    self.file.as_raw_fd(),
                    buf.ptr.cast(),
                    SLOT_SIZE,
                    offset(index) as libc::off_t,
                )
            };
            if n == SLOT_SIZE as isize {
                return Ok(());
            }
            if n >= 0 {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!("short write: {n} of {SLOT_SIZE} bytes"),
                ));
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => {}
                // A device with 4096-byte sectors refuses a 512-byte direct write.
                Some(libc::EINVAL) if self.direct => self.buffered()?,
                _ => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_slots_in_place_and_reads_the_area_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m/.nfsha/leases");
        assert!(
            AreaFile::open(&p, false).is_err(),
            "not created without create"
        );
        let mut a = AreaFile::open(&p, true).unwrap();
        assert_eq!(a.read(65536).unwrap(), Vec::<u8>::new(), "empty");
        a.write_slot(2, &[b'c'; SLOT_SIZE]).unwrap();
        a.write_slot(0, &[b'a'; SLOT_SIZE]).unwrap();
        let got = a.read(65536).unwrap();
        assert_eq!(got.len(), 3 * SLOT_SIZE);
        assert_eq!(&got[..SLOT_SIZE], &[b'a'; SLOT_SIZE][..]);
        assert_eq!(
            &got[SLOT_SIZE..2 * SLOT_SIZE],
            &[0; SLOT_SIZE][..],
            "a hole reads as zeros"
        );
        assert_eq!(
            a.read(SLOT_SIZE + 10).unwrap().len(),
            SLOT_SIZE + 10,
            "never more than asked"
        );
        // Another opener sees the writes at once (the peers' view).
        let mut b = AreaFile::open(&p, false).unwrap();
        a.write_slot(1, &[b'b'; SLOT_SIZE]).unwrap();
        assert_eq!(b.read(65536).unwrap()[SLOT_SIZE], b'b');
        assert!(a.write_slot(0, &[0; 10]).is_err());
    }
}

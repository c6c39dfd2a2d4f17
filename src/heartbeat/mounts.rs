//! Whether a path is a mount point (read from `/proc/self/mountinfo`, never
//! by touching the mount). The client mount option checks are lint rules
//! (`nfsha lint --mounts`, NFS801–NFS804).

use std::path::Path;

/// Undo the octal escapes of `/proc/mounts` and mountinfo (`\040` = space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = i + 4 <= b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c));
        if b[i] == b'\\' && octal {
            let v = (b[i + 1] - b'0') as u32 * 64
                + (b[i + 2] - b'0') as u32 * 8
                + (b[i + 3] - b'0') as u32;
            out.push(v as u8);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `mountinfo` (the text of `/proc/self/mountinfo`) lists `path` as a
/// mount point. Compared as text, so the mount itself is never touched.
pub fn mountinfo_has(mountinfo: &str, path: &Path) -> bool {
    let want = path.to_string_lossy();
    let want = want.trim_end_matches('/');
    let want = if want.is_empty() { "/" } else { want };
    mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|mp| unescape(mp) == want)
}

/// Whether `path` is a mount point on this host now.
pub fn is_mounted(path: &Path) -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|t| mountinfo_has(&t, path))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_matches_exact_paths() {
        let mi = "36 25 0:32 / /mnt/pool\\040a rw,relatime - nfs4 srv:/x rw\n22 1 8:1 / / rw - ext4 /dev/sda1 rw\n";
        assert!(mountinfo_has(mi, Path::new("/mnt/pool a")));
        assert!(mountinfo_has(mi, Path::new("/mnt/pool a/")));
        assert!(!mountinfo_has(mi, Path::new("/mnt/pool")));
        assert!(mountinfo_has(mi, Path::new("/")));
    }
}

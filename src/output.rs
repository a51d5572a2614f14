//! Writing the result: only a validated component, and only atomically.
//!
//! The output is written while the guest still lives, since its memory contents are the
//! guest's own bytes (see [`Rope`]); it is validated once the run has let go of the guest. So
//! it goes to a [`Staged`] file first, which becomes the output only when it validates.

use crate::encode::rope::Rope;
use anyhow::{anyhow, Context, Result};
use std::fs::{self, File};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Validates `bytes` as a component or module with every feature compsnap may emit.
pub fn validate(bytes: &[u8]) -> Result<()> {
    crate::validate::validate(bytes).map(|_| ())
}

/// Writes `bytes` to a temporary file next to `path`, then renames it over `path`. On any
/// failure the temporary file is removed and `path` is left as it was.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut staged = Staged::create(path)?;
    staged.write_with(|out| out.write_all(bytes))?;
    staged.commit()
}

/// A temporary file next to the output, removed unless [`Staged::commit`] renames it over
/// the output.
///
/// Where the file system can (Linux's `O_TMPFILE`: ext4, XFS, Btrfs, tmpfs), the file has no
/// name until the commit links it as the output (or, to replace one, under `tmp` just before
/// the rename), so a process killed while it writes or validates (Ctrl-C, `SIGKILL`, a crash)
/// leaves nothing in the output's directory: the kernel frees the file. Elsewhere it is
/// created under `tmp` and removed on every path out of compsnap but a killed process.
pub struct Staged {
    tmp: PathBuf,
    /// Whether the file is `tmp` yet (see [`Staged`]).
    named: bool,
    path: PathBuf,
    file: Option<File>,
    /// The flush to disk, running on a thread of its own while the output is validated;
    /// [`Staged::commit`] waits for it.
    syncing: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Staged {
    /// Creates the temporary file for `path`.
    pub fn create(path: &Path) -> Result<Self> {
        let name = path
            .file_name()
            .ok_or_else(|| anyhow!("output path {} has no file name", path.display()))?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        // Unique per process and per call, so concurrent writers never share a temporary file.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let tmp = dir.join(format!(
            ".{}.compsnap-{}-{}.tmp",
            name.to_string_lossy(),
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        // Readable too: it is mapped back to be validated (`read`).
        let (file, named) = match unnamed(dir) {
            Some(file) => (file, false),
            None => {
                let file = fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(&tmp)
                    .with_context(|| format!("creating temporary file {}", tmp.display()))?;
                (file, true)
            }
        };
        Ok(Staged {
            tmp,
            named,
            path: path.to_path_buf(),
            file: Some(file),
            syncing: None,
        })
    }

    /// Writes `rope` to the temporary file, and starts flushing it to disk (see
    /// [`Staged::write_with`]).
    pub fn write(&mut self, rope: &Rope) -> Result<()> {
        self.write_with(|out| rope.write_to(out))
    }

    /// Writes the temporary file with `write`, then flushes it to disk on a thread of its
    /// own, which [`Staged::commit`] waits for: the flush runs while the guest is dropped and
    /// the output validated, not before. On the command line, a 64 MiB output's `write` stage
    /// took 19–22 ms instead of 42–47 ms, and the whole command 118 instead of 124 ms
    /// (medians of 8 alternating runs); componentize-py's output, which then validates for
    /// 55–92 ms, spent 8–38 instead of 16–42 ms in `write`.
    ///
    /// Not flushing at all saved nothing measurable where an output is replaced: on ext4,
    /// renaming over an existing file starts writing the new one out anyway
    /// (`auto_da_alloc`). Without the flush, a 64 MiB output's `write` stage took 18–20
    /// instead of 53 ms (medians of 30 alternating runs, twice), but whole snapshots took as
    /// long (139 against 136 ms, 118 against 129 ms), the difference moving outside the
    /// stages, where the rename is.
    fn write_with(
        &mut self,
        write: impl FnOnce(&mut BufWriter<&mut File>) -> std::io::Result<()>,
    ) -> Result<()> {
        let context = || format!("writing {}", self.tmp.display());
        let file = self
            .file
            .as_mut()
            .context("bug: staged output written twice")?;
        let mut out = BufWriter::with_capacity(1 << 20, &mut *file);
        write(&mut out)
            .and_then(|_| out.flush())
            .with_context(context)?;
        drop(out);
        // Where no second handle or thread can be had, the flush runs here.
        let flush = file.try_clone().ok().and_then(|handle| {
            std::thread::Builder::new()
                .name("compsnap-flush".into())
                .spawn(move || handle.sync_all())
                .ok()
        });
        match flush {
            Some(thread) => self.syncing = Some(thread),
            None => file.sync_all().with_context(context)?,
        }
        Ok(())
    }

    /// Waits for the flush [`Staged::write_with`] started.
    fn flushed(&mut self) -> Result<()> {
        match self.syncing.take() {
            None => Ok(()),
            Some(thread) => (thread.join())
                .map_err(|_| anyhow!("bug: flushing {} panicked", self.tmp.display()))?
                .with_context(|| format!("writing {}", self.tmp.display())),
        }
    }

    /// What was written, read back: mapped from the file where that is possible (see
    /// [`Written`]), else read into memory.
    pub fn read(&self) -> Result<Written> {
        let context = || format!("reading back {}", self.tmp.display());
        // A file that cannot be mapped (a file system without mmap) is read instead.
        #[cfg(unix)]
        if let Some(Ok(Some(mapped))) = self.file.as_ref().map(Mapped::new) {
            return Ok(Written::Mapped(mapped));
        }
        let mut file = self
            .file
            .as_ref()
            .context("bug: staged output read after commit")?;
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_end(&mut bytes))
            .with_context(context)?;
        Ok(Written::Read(bytes))
    }

    /// Renames the temporary file over the output, once it is on disk. An unnamed one is
    /// linked as the output where there is none yet, and otherwise gets its temporary name
    /// first, which it holds (whole) only between that link and the rename.
    pub fn commit(mut self) -> Result<()> {
        self.flushed()?;
        if !self.named {
            let file = self
                .file
                .as_mut()
                .context("bug: staged output committed twice")?;
            if link(file, &self.path).is_ok() {
                self.tmp = PathBuf::new();
                return Ok(());
            }
            name(file, &self.tmp)
                .with_context(|| format!("creating temporary file {}", self.tmp.display()))?;
            self.named = true;
        }
        drop(self.file.take());
        fs::rename(&self.tmp, &self.path).with_context(|| {
            format!("renaming {} to {}", self.tmp.display(), self.path.display())
        })?;
        // Renamed: nothing left to remove.
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // Not committed: the flush's outcome no longer matters, but it ends first.
        let _ = self.flushed();
        drop(self.file.take());
        if self.named && !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// A new unnamed file in `dir` (`O_TMPFILE`), or `None` where the file system or the platform
/// has none, or it cannot be made for any other reason (then creating a named one says why).
#[cfg(target_os = "linux")]
fn unnamed(dir: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o666)
        .custom_flags(libc::O_TMPFILE)
        .open(dir)
        .ok()
}

#[cfg(not(target_os = "linux"))]
fn unnamed(_dir: &Path) -> Option<File> {
    None
}

/// Gives the unnamed `file` the name `tmp`: linked ([`link`]), else copied into a new file of
/// that name, which then replaces `file`.
#[cfg(target_os = "linux")]
fn name(file: &mut File, tmp: &Path) -> std::io::Result<()> {
    link(file, tmp).or_else(|_| copy_named(file, tmp))
}

/// Links the unnamed `file` as `to`, which must not exist: through `/proc/self/fd` (which
/// needs no privilege), else by its descriptor (`AT_EMPTY_PATH`, which needs
/// `CAP_DAC_READ_SEARCH`).
#[cfg(target_os = "linux")]
fn link(file: &File, to: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    let to = CString::new(to.as_os_str().as_bytes())?;
    let fd = file.as_raw_fd();
    let proc = CString::new(format!("/proc/self/fd/{fd}"))?;
    // SAFETY: both paths are NUL-terminated strings that outlive the calls; `fd` is open.
    let linked = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            proc.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        ) == 0
            || libc::linkat(
                fd,
                c"".as_ptr(),
                libc::AT_FDCWD,
                to.as_ptr(),
                libc::AT_EMPTY_PATH,
            ) == 0
    };
    match linked {
        true => Ok(()),
        false => Err(std::io::Error::last_os_error()),
    }
}

/// Copies `file` into a new file `tmp`, which then replaces `file`; on failure `tmp` is gone.
#[cfg(target_os = "linux")]
fn copy_named(file: &mut File, tmp: &Path) -> std::io::Result<()> {
    let mut named = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp)?;
    let copied = file
        .seek(SeekFrom::Start(0))
        .and_then(|_| std::io::copy(file, &mut named))
        .and_then(|_| named.sync_all());
    if let Err(e) = copied {
        let _ = fs::remove_file(tmp);
        return Err(e);
    }
    *file = named;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn name(_file: &mut File, _tmp: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other("bug: an unnamed file off Linux"))
}

#[cfg(not(target_os = "linux"))]
fn link(_file: &File, _to: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other("bug: an unnamed file off Linux"))
}

/// The staged output as written, to validate it. Read into a fresh buffer, a 64 MiB output
/// took the command line's `validate` stage 57–60 ms, nearly all of it the buffer's page
/// faults. Mapped, it takes 0.2–0.3 ms: the pages are the ones the write has just left in
/// the page cache, and validation never touches most of them (it skips data segments'
/// bytes). Peak memory is unchanged (85 MB, the guest being gone by then).
pub enum Written {
    /// The file mapped read-only.
    #[cfg(unix)]
    Mapped(Mapped),
    /// The file's bytes, read.
    Read(Vec<u8>),
}

impl std::ops::Deref for Written {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            #[cfg(unix)]
            Written::Mapped(m) => m.bytes(),
            Written::Read(bytes) => bytes,
        }
    }
}

/// A read-only, private mapping of a whole file.
#[cfg(unix)]
pub struct Mapped {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
}

#[cfg(unix)]
impl Mapped {
    /// Maps `file`; `None` for an empty file, which cannot be mapped.
    fn new(file: &File) -> std::io::Result<Option<Self>> {
        use std::os::fd::AsRawFd;
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| std::io::Error::other("the output does not fit in memory"))?;
        if len == 0 {
            return Ok(None);
        }
        // SAFETY: a fresh read-only private mapping of an open file, aliasing no Rust
        // object. Its bytes are those of the staged output, a file this process created
        // (unnamed, or `create_new` under a name unique to this process and call) and no
        // longer writes.
        // Another process that rewrote the temporary file meanwhile would change what is
        // validated, as it would change what is committed; one that truncated it would end
        // this process with SIGBUS, not with a wrong answer.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let ptr = std::ptr::NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| std::io::Error::other("mmap returned null"))?;
        Ok(Some(Mapped { ptr, len }))
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `len` readable bytes and lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

#[cfg(unix)]
impl Drop for Mapped {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping `new` made; no borrow of it outlives `self`.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory for one test, by `name` and this process.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("compsnap-{name}-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<std::ffi::OsString> {
        let mut names: Vec<_> = (fs::read_dir(dir).unwrap())
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    }

    /// What `read` gives back is byte for byte what was written, mapped where it can be, and
    /// the committed file holds the same bytes.
    #[test]
    fn staged_output_reads_back_what_was_written() {
        let dir = scratch("staged");
        let path = dir.join("out.wasm");
        let head: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8 + 1).collect();
        let mut rope = Rope::from(head.clone());
        rope.zeros(3 << 20);
        rope.borrow(&head);
        let mut staged = Staged::create(&path).unwrap();
        staged.write(&rope).unwrap();
        let written = staged.read().unwrap();
        #[cfg(unix)]
        assert!(matches!(written, Written::Mapped(_)));
        let mut expected = head.clone();
        expected.resize(head.len() + (3 << 20), 0);
        expected.extend_from_slice(&head);
        assert!(written[..] == expected[..]);
        drop(written);
        staged.commit().unwrap();
        assert!(fs::read(&path).unwrap() == expected);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A staged output written but never committed (its validation failed, say) leaves
    /// nothing behind, and its flush has ended by then.
    #[test]
    fn uncommitted_staged_output_is_removed() {
        let dir = scratch("dropped");
        let path = dir.join("out.wasm");
        fs::write(&path, b"before").unwrap();
        let mut staged = Staged::create(&path).unwrap();
        staged.write(&Rope::from(vec![7u8; 1 << 20])).unwrap();
        assert_eq!(staged.read().unwrap().len(), 1 << 20);
        drop(staged);
        assert_eq!(names(&dir), ["out.wasm"], "only the output is left");
        assert_eq!(
            fs::read(&path).unwrap(),
            b"before",
            "the output is untouched"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    /// On Linux, a staged output has no name in the output's directory until the commit: a
    /// process killed before it leaves nothing there. Committed, the output holds what was
    /// written and is the directory's only file.
    #[cfg(target_os = "linux")]
    #[test]
    fn staged_output_is_unnamed_until_committed() {
        let dir = scratch("unnamed");
        let path = dir.join("out.wasm");
        fs::write(&path, b"before").unwrap();
        let mut staged = Staged::create(&path).unwrap();
        assert!(!staged.named, "{} has O_TMPFILE", dir.display());
        staged.write(&Rope::from(vec![9u8; 3 << 20])).unwrap();
        assert_eq!(staged.read().unwrap().len(), 3 << 20);
        assert_eq!(names(&dir), ["out.wasm"], "the staged output has no name");
        staged.commit().unwrap();
        assert_eq!(names(&dir), ["out.wasm"], "nothing but the output is left");
        assert!(fs::read(&path).unwrap() == vec![9u8; 3 << 20]);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Naming an unnamed file: linked, or where that fails, copied into a file of that name
    /// (`copy_named`), which then is the staged file. A name already taken stays as it was.
    #[cfg(target_os = "linux")]
    #[test]
    fn unnamed_file_is_linked_or_copied_under_its_name() {
        let dir = scratch("named");
        let taken = dir.join("taken");
        fs::write(&taken, b"x").unwrap();
        for (i, how) in [name, copy_named].into_iter().enumerate() {
            let mut file = unnamed(&dir).expect("O_TMPFILE");
            file.write_all(b"written").unwrap();
            assert!(how(&mut file, &taken).is_err());
            assert_eq!(fs::read(&taken).unwrap(), b"x");
            let tmp = dir.join(format!("tmp{i}"));
            how(&mut file, &tmp).unwrap();
            assert_eq!(fs::read(&tmp).unwrap(), b"written");
            file.write_all(b" more").unwrap();
            assert_eq!(
                fs::read(&tmp).unwrap(),
                b"written more",
                "the file is the named one"
            );
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    /// An empty staged file, which cannot be mapped, reads back as empty.
    #[test]
    fn empty_staged_output_reads_back_empty() {
        let dir = scratch("empty");
        let staged = Staged::create(&dir.join("out.wasm")).unwrap();
        assert!(staged.read().unwrap().is_empty());
        drop(staged);
        assert!(names(&dir).is_empty(), "the temporary file is gone");
        fs::remove_dir_all(&dir).unwrap();
    }
}

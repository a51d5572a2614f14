//! Writing the result: only a validated component, and only atomically.
//!
//! The output is written while the guest still lives, since its memory contents are the
//! guest's own bytes (see [`Rope`]); it is validated once the run has let go of the guest. So
//! it goes to a [`Staged`] file first, which becomes the output only when it validates.

use crate::encode::rope::Rope;
use anyhow::{anyhow, Context, Result};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
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
pub struct Staged {
    tmp: PathBuf,
    path: PathBuf,
    file: Option<File>,
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
        let file = File::create_new(&tmp)
            .with_context(|| format!("creating temporary file {}", tmp.display()))?;
        Ok(Staged {
            tmp,
            path: path.to_path_buf(),
            file: Some(file),
        })
    }

    /// Writes `rope` to the temporary file, flushed to disk.
    pub fn write(&mut self, rope: &Rope) -> Result<()> {
        self.write_with(|out| rope.write_to(out))
    }

    fn write_with(
        &mut self,
        write: impl FnOnce(&mut BufWriter<&mut File>) -> std::io::Result<()>,
    ) -> Result<()> {
        let file = self
            .file
            .as_mut()
            .context("bug: staged output written twice")?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        write(&mut out)
            .and_then(|_| out.flush())
            .and_then(|_| out.get_ref().sync_all())
            .with_context(|| format!("writing {}", self.tmp.display()))
    }

    /// What was written, read back.
    pub fn read(&self) -> Result<Vec<u8>> {
        fs::read(&self.tmp).with_context(|| format!("reading back {}", self.tmp.display()))
    }

    /// Renames the temporary file over the output.
    pub fn commit(mut self) -> Result<()> {
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
        drop(self.file.take());
        if !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

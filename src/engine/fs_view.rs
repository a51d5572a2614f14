//! The preopened files as the deterministic world shows them to the init: the same
//! contents, with metadata that does not depend on when or where the files were copied.
//! Every timestamp (access, modification, status change) reads the world's wall clock,
//! file identities (`metadata-hash`, preview 1's `ino`) are numbered in the order the init
//! first asks for them, and a directory lists its entries sorted by name. So two fresh
//! copies of the same tree give the same snapshot: CPython's import caches keep directory
//! mtimes, and listing order decides the layout of the sets it fills.
//!
//! Wasmtime's WASI reads the host's files; this layer wraps the few functions that report
//! metadata, on the component linker (WASI preview 2, [`add_to_component_linker`]) and on
//! the core linker (preview 1, [`add_to_core_linker`]). Nothing here runs in the host
//! world (`--host-world`).

use anyhow::{anyhow, Result};
use std::collections::{HashMap, VecDeque};
use wasmtime::component::Resource;
use wasmtime_wasi::filesystem::WasiFilesystemView;
use wasmtime_wasi::p2::bindings::clocks::wall_clock::Datetime;
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    self as fs, Host as _, HostDescriptor as _, HostDirectoryEntryStream as _,
};
use wasmtime_wasi::p2::FsResult;

/// The interface whose functions are wrapped, under the version Wasmtime's WASI defines it
/// with (imports of earlier 0.2 versions resolve to it).
const FILESYSTEM_TYPES: &str = "wasi:filesystem/types@0.2.12";

/// What the normalized view remembers during one run.
pub(crate) struct FsView {
    /// Every timestamp, in seconds since the Unix epoch.
    wall: u64,
    /// The host's file identity → the one the init sees (1, 2, … in first-asked order).
    ids: HashMap<(u64, u64), u64>,
    /// A directory stream's sorted entries (by the stream's resource index), handed out
    /// one by one.
    listings: HashMap<u32, VecDeque<Result<fs::DirectoryEntry, fs::ErrorCode>>>,
    /// Preview 1's own functions, taken from the linker (core runs only).
    originals: Option<[wasmtime::Func; 3]>,
    /// The module that calls them on the guest's memory, once the init first needs it.
    trampoline: Option<Trampoline>,
}

impl FsView {
    /// A view whose timestamps all read `wall`.
    pub(crate) fn new(wall: u64) -> Self {
        FsView {
            wall,
            ids: HashMap::new(),
            listings: HashMap::new(),
            originals: None,
            trampoline: None,
        }
    }

    /// The identity the init sees for the host's `real` one.
    fn id(&mut self, real: (u64, u64)) -> u64 {
        let next = self.ids.len() as u64 + 1;
        *self.ids.entry(real).or_insert(next)
    }

    fn stat(&mut self, mut stat: fs::DescriptorStat) -> fs::DescriptorStat {
        let now = Datetime {
            seconds: self.wall,
            nanoseconds: 0,
        };
        for time in [
            &mut stat.data_access_timestamp,
            &mut stat.data_modification_timestamp,
            &mut stat.status_change_timestamp,
        ] {
            if time.is_some() {
                *time = Some(now);
            }
        }
        stat
    }

    fn hash(&mut self, real: fs::MetadataHashValue) -> fs::MetadataHashValue {
        let id = self.id((real.upper, real.lower));
        fs::MetadataHashValue {
            lower: id,
            upper: 0,
        }
    }

    /// A preview 1 time in nanoseconds: the wall clock, unless the host reported none.
    fn nanos(&self, real: u64) -> u64 {
        match real {
            0 => 0,
            _ => self.wall.saturating_mul(1_000_000_000),
        }
    }

    /// A preview 1 `ino`, which Wasmtime takes from the lower half of the metadata hash.
    fn ino(&mut self, real: u64) -> u64 {
        match real {
            0 => 0,
            _ => self.id((0, real)),
        }
    }
}

/// A store whose WASI files the view normalizes.
pub(crate) trait FsViewHost: 'static {
    /// The view of this run.
    fn fs_view(&mut self) -> &mut FsView;
}

/// A filesystem call's result as the guest receives it: the error code, or a trap.
fn settle<H: WasiFilesystemView, T>(
    host: &mut H,
    r: FsResult<T>,
) -> wasmtime::Result<Result<T, fs::ErrorCode>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) => Ok(Err(host.filesystem().convert_error_code(e)?)),
    }
}

type Descriptor = Resource<fs::Descriptor>;
type Entries = Resource<fs::DirectoryEntryStream>;

/// Defines `name` as Wasmtime's own function `call`, its result corrected by `fix`.
fn corrected<H, P, T, U>(
    types: &mut wasmtime::component::LinkerInstance<'_, H>,
    name: &str,
    call: fn(&mut wasmtime_wasi::filesystem::WasiFilesystemCtxView<'_>, P) -> FsResult<T>,
    fix: fn(&mut FsView, T) -> U,
) -> Result<()>
where
    H: FsViewHost + WasiFilesystemView,
    P: wasmtime::component::ComponentNamedList + wasmtime::component::Lift + 'static,
    (Result<U, fs::ErrorCode>,):
        wasmtime::component::ComponentNamedList + wasmtime::component::Lower,
    T: 'static,
    U: 'static,
{
    types
        .func_wrap(name, move |mut store, params: P| {
            let host = store.data_mut();
            let r = call(&mut host.filesystem(), params);
            let r = settle(host, r)?;
            Ok((r.map(|v| fix(host.fs_view(), v)),))
        })
        .map_err(|e| anyhow!("wrapping {FILESYSTEM_TYPES}: {e}"))
}

/// Wraps the metadata functions of `wasi:filesystem/types` on `linker` (after
/// `wasmtime_wasi::p2::add_to_linker_sync`).
pub(crate) fn add_to_component_linker<H: FsViewHost + WasiFilesystemView>(
    linker: &mut wasmtime::component::Linker<H>,
) -> Result<()> {
    linker.allow_shadowing(true);
    let mut types = linker
        .instance(FILESYSTEM_TYPES)
        .map_err(|e| anyhow!("wrapping {FILESYSTEM_TYPES}: {e}"))?;
    let wrap = |e: wasmtime::Error| anyhow!("wrapping {FILESYSTEM_TYPES}: {e}");
    corrected(
        &mut types,
        "[method]descriptor.stat",
        |fs, (fd,): (Descriptor,)| fs.stat(fd),
        FsView::stat,
    )?;
    corrected(
        &mut types,
        "[method]descriptor.stat-at",
        |fs, (fd, flags, path): (Descriptor, fs::PathFlags, String)| fs.stat_at(fd, flags, path),
        FsView::stat,
    )?;
    corrected(
        &mut types,
        "[method]descriptor.metadata-hash",
        |fs, (fd,): (Descriptor,)| fs.metadata_hash(fd),
        FsView::hash,
    )?;
    corrected(
        &mut types,
        "[method]descriptor.metadata-hash-at",
        |fs, (fd, flags, path): (Descriptor, fs::PathFlags, String)| {
            fs.metadata_hash_at(fd, flags, path)
        },
        FsView::hash,
    )?;
    types
        .func_wrap(
            "[method]descriptor.read-directory",
            |mut store, (fd,): (Descriptor,)| {
                let host = store.data_mut();
                let r = host.filesystem().read_directory(fd);
                let stream = match settle(host, r)? {
                    Ok(stream) => stream,
                    Err(code) => return Ok((Err(code),)),
                };
                // Wasmtime has read the whole directory already; take it in host order and
                // hand it out sorted.
                let mut entries = Vec::new();
                let mut failure = None;
                loop {
                    let next = host
                        .filesystem()
                        .read_directory_entry(Resource::new_borrow(stream.rep()));
                    match settle(host, next)? {
                        Ok(Some(entry)) => entries.push(entry),
                        Ok(None) => break,
                        Err(code) => {
                            failure = Some(code);
                            break;
                        }
                    }
                }
                entries.sort_by(|a, b| a.name.cmp(&b.name));
                let mut listing: VecDeque<_> = entries.into_iter().map(Ok).collect();
                listing.extend(failure.map(Err));
                host.fs_view().listings.insert(stream.rep(), listing);
                Ok((Ok(stream),))
            },
        )
        .map_err(wrap)?;
    types
        .func_wrap(
            "[method]directory-entry-stream.read-directory-entry",
            |mut store, (stream,): (Entries,)| {
                let host = store.data_mut();
                match host.fs_view().listings.get_mut(&stream.rep()) {
                    Some(listing) => Ok((listing.pop_front().transpose(),)),
                    None => {
                        let r = host.filesystem().read_directory_entry(stream);
                        Ok((settle(host, r)?,))
                    }
                }
            },
        )
        .map_err(wrap)?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The preview 1 module name.
const P1: &str = "wasi_snapshot_preview1";
/// Preview 1's `filestat`: `dev`, `ino`, `filetype`, `nlink`, `size`, `atim`, `mtim`,
/// `ctim`, at these offsets.
const FILESTAT_INO: usize = 8;
const FILESTAT_TIMES: [usize; 3] = [40, 48, 56];
const FILESTAT_SIZE: usize = 64;
/// Preview 1's `dirent` header: `d_next` u64, `d_ino` u64, `d_namlen` u32, `d_type` u8.
const DIRENT_SIZE: usize = 24;

/// Wraps preview 1's `fd_filestat_get`, `path_filestat_get` and `fd_readdir` on `linker`
/// (after `wasmtime_wasi::p1::add_to_linker_sync`): each wrapper calls Wasmtime's own
/// function, then corrects what it wrote into the guest's memory.
///
/// Wasmtime's preview 1 functions find the memory they write through their caller's
/// `memory` export, so a host function cannot call them directly: the wrappers call them
/// through a [`Trampoline`], a module that imports them with the guest's memory and
/// re-exports that memory.
pub(crate) fn add_to_core_linker<H: FsViewHost>(
    linker: &mut wasmtime::Linker<H>,
    store: &mut wasmtime::Store<H>,
) -> Result<()> {
    let mut originals = Vec::new();
    for name in ORIGINALS {
        let func = linker
            .get(&mut *store, P1, name)
            .ok()
            .and_then(|e| e.into_func())
            .ok_or_else(|| anyhow!("wrapping {P1}::{name}: not in the linker"))?;
        originals.push(func);
    }
    store.data_mut().fs_view().originals = originals.try_into().ok();
    let wrap = |e: wasmtime::Error| anyhow!("wrapping {P1}: {e}");
    linker.allow_shadowing(true);
    linker
        .func_wrap(
            P1,
            "fd_filestat_get",
            |mut caller: wasmtime::Caller<'_, H>, fd: i32, buf: i32| {
                let errno = trampoline(&mut caller)?
                    .filestat
                    .call(&mut caller, (fd, buf))?;
                fix_filestat(&mut caller, errno, buf)
            },
        )
        .map_err(wrap)?;
    linker
        .func_wrap(
            P1,
            "path_filestat_get",
            |mut caller: wasmtime::Caller<'_, H>,
             fd: i32,
             flags: i32,
             path: i32,
             len: i32,
             buf: i32| {
                let errno = trampoline(&mut caller)?
                    .path_filestat
                    .call(&mut caller, (fd, flags, path, len, buf))?;
                fix_filestat(&mut caller, errno, buf)
            },
        )
        .map_err(wrap)?;
    linker
        .func_wrap(
            P1,
            "fd_readdir",
            |mut caller: wasmtime::Caller<'_, H>,
             fd: i32,
             buf: i32,
             len: i32,
             cookie: i64,
             used: i32| {
                let readdir = trampoline(&mut caller)?.readdir;
                sorted_readdir(&mut caller, readdir, [fd, buf, len, used], cookie)
            },
        )
        .map_err(wrap)?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The preview 1 functions wrapped, in the trampoline's import order.
const ORIGINALS: [&str; 3] = ["fd_filestat_get", "path_filestat_get", "fd_readdir"];

/// Calls Wasmtime's preview 1 functions from Wasm whose `memory` is the guest's.
#[derive(Clone)]
struct Trampoline {
    filestat: wasmtime::TypedFunc<(i32, i32), i32>,
    path_filestat: wasmtime::TypedFunc<(i32, i32, i32, i32, i32), i32>,
    readdir: wasmtime::TypedFunc<(i32, i32, i32, i64, i32), i32>,
}

const TRAMPOLINE: &str = r#"(module
  (import "p1" "fd_filestat_get" (func $filestat (param i32 i32) (result i32)))
  (import "p1" "path_filestat_get" (func $path_filestat (param i32 i32 i32 i32 i32) (result i32)))
  (import "p1" "fd_readdir" (func $readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "guest" "memory" (memory 0))
  (export "memory" (memory 0))
  (func (export "fd_filestat_get") (param i32 i32) (result i32)
    (call $filestat (local.get 0) (local.get 1)))
  (func (export "path_filestat_get") (param i32 i32 i32 i32 i32) (result i32)
    (call $path_filestat (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)))
  (func (export "fd_readdir") (param i32 i32 i32 i64 i32) (result i32)
    (call $readdir (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4))))"#;

/// The run's trampoline, instantiated over the caller's memory the first time.
fn trampoline<H: FsViewHost>(caller: &mut wasmtime::Caller<'_, H>) -> wasmtime::Result<Trampoline> {
    if let Some(t) = &caller.data_mut().fs_view().trampoline {
        return Ok(t.clone());
    }
    let memory = guest_memory(caller)?;
    let originals = caller
        .data_mut()
        .fs_view()
        .originals
        .ok_or_else(|| wasmtime::Error::msg("compsnap bug: preview 1 was not wrapped"))?;
    let module = wasmtime::Module::new(caller.engine(), TRAMPOLINE)?;
    let imports = [
        originals[0].into(),
        originals[1].into(),
        originals[2].into(),
        memory.into(),
    ];
    let instance = wasmtime::Instance::new(&mut *caller, &module, &imports)?;
    let t = Trampoline {
        filestat: instance.get_typed_func(&mut *caller, ORIGINALS[0])?,
        path_filestat: instance.get_typed_func(&mut *caller, ORIGINALS[1])?,
        readdir: instance.get_typed_func(&mut *caller, ORIGINALS[2])?,
    };
    caller.data_mut().fs_view().trampoline = Some(t.clone());
    Ok(t)
}

/// The caller's memory, which preview 1 reads and writes.
fn guest_memory<H>(caller: &mut wasmtime::Caller<'_, H>) -> wasmtime::Result<wasmtime::Memory> {
    caller
        .get_export("memory")
        .and_then(|e| e.into_memory())
        .ok_or_else(|| wasmtime::Error::msg("WASI preview 1 needs a memory exported as `memory`"))
}

/// After a `*filestat_get` that returned `errno`: when it succeeded, rewrites the times and
/// `ino` of the `filestat` Wasmtime wrote at `buf`. Returns `errno`.
fn fix_filestat<H: FsViewHost>(
    caller: &mut wasmtime::Caller<'_, H>,
    errno: i32,
    buf: i32,
) -> wasmtime::Result<i32> {
    if errno != 0 {
        return Ok(errno);
    }
    let at = buf as u32 as usize;
    let memory = guest_memory(caller)?;
    let (data, host) = memory.data_and_store_mut(&mut *caller);
    let stat = data
        .get_mut(at..at + FILESTAT_SIZE)
        .ok_or_else(|| wasmtime::Error::msg("filestat out of bounds"))?;
    let view = host.fs_view();
    let field = |stat: &[u8], at: usize| u64::from_le_bytes(stat[at..at + 8].try_into().unwrap());
    let ino = view.ino(field(stat, FILESTAT_INO));
    stat[FILESTAT_INO..FILESTAT_INO + 8].copy_from_slice(&ino.to_le_bytes());
    for at in FILESTAT_TIMES {
        let time = view.nanos(field(stat, at));
        stat[at..at + 8].copy_from_slice(&time.to_le_bytes());
    }
    Ok(errno)
}

/// One entry of a preview 1 directory listing.
struct Dirent {
    ino: u64,
    kind: u8,
    name: Vec<u8>,
}

/// `fd_readdir` with the entries sorted by name (`.` and `..` first, as Wasmtime lists
/// them). Wasmtime lists the whole directory on every call and skips to the cookie, so the
/// wrapper does the same: it pages through the original with the guest's own buffer, then
/// writes the sorted page the guest asked for and puts back the bytes it used beyond it.
fn sorted_readdir<H: FsViewHost>(
    caller: &mut wasmtime::Caller<'_, H>,
    call: wasmtime::TypedFunc<(i32, i32, i32, i64, i32), i32>,
    [fd, buf, len, used]: [i32; 4],
    cookie: i64,
) -> wasmtime::Result<i32> {
    let memory = guest_memory(caller)?;
    let (start, cap) = (buf as u32 as usize, len as u32 as usize);
    let saved = memory
        .data(&*caller)
        .get(start..start + cap)
        .ok_or_else(|| wasmtime::Error::msg("fd_readdir buffer out of bounds"))?
        .to_vec();
    let mut entries = Vec::new();
    let mut next = 0i64;
    loop {
        let errno = call.call(&mut *caller, (fd, buf, len, next, used))?;
        if errno != 0 {
            return Ok(errno);
        }
        let data = memory.data(&*caller);
        let filled = read_u32(data, used as u32 as usize)? as usize;
        let page = &data[start..start + filled.min(cap)];
        let mut at = 0;
        let mut whole = 0;
        while at + DIRENT_SIZE <= page.len() {
            let namlen = u32::from_le_bytes(page[at + 16..at + 20].try_into().unwrap()) as usize;
            if at + DIRENT_SIZE + namlen > page.len() {
                break;
            }
            next = i64::from_le_bytes(page[at..at + 8].try_into().unwrap());
            entries.push(Dirent {
                ino: u64::from_le_bytes(page[at + 8..at + 16].try_into().unwrap()),
                kind: page[at + 20],
                name: page[at + DIRENT_SIZE..at + DIRENT_SIZE + namlen].to_vec(),
            });
            at += DIRENT_SIZE + namlen;
            whole += 1;
        }
        if filled < cap {
            break;
        }
        if whole == 0 {
            // Not even one entry fits this buffer: answer as Wasmtime does (the guest asks
            // again with a larger one).
            return call.call(&mut *caller, (fd, buf, len, cookie, used));
        }
    }
    let dots = entries
        .iter()
        .take_while(|e| e.name == b"." || e.name == b"..")
        .count();
    entries[dots..].sort_by(|a, b| a.name.cmp(&b.name));
    let (data, host) = memory.data_and_store_mut(&mut *caller);
    let view = host.fs_view();
    let mut page = Vec::with_capacity(cap);
    for (i, entry) in entries.iter().enumerate().skip(cookie.max(0) as usize) {
        if page.len() >= cap {
            break;
        }
        let mut bytes = Vec::with_capacity(DIRENT_SIZE + entry.name.len());
        bytes.extend_from_slice(&(i as u64 + 1).to_le_bytes());
        bytes.extend_from_slice(&view.ino(entry.ino).to_le_bytes());
        bytes.extend_from_slice(&(entry.name.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&[entry.kind, 0, 0, 0]);
        bytes.extend_from_slice(&entry.name);
        let room = cap - page.len();
        page.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
    let out = &mut data[start..start + cap];
    out[..page.len()].copy_from_slice(&page);
    out[page.len()..].copy_from_slice(&saved[page.len()..]);
    let used = used as u32 as usize;
    data.get_mut(used..used + 4)
        .ok_or_else(|| wasmtime::Error::msg("fd_readdir bufused out of bounds"))?
        .copy_from_slice(&(page.len() as u32).to_le_bytes());
    Ok(0)
}

fn read_u32(data: &[u8], at: usize) -> wasmtime::Result<u32> {
    data.get(at..at + 4)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
        .ok_or_else(|| wasmtime::Error::msg("fd_readdir bufused out of bounds"))
}

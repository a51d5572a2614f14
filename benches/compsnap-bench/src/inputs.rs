//! The benchmark's inputs: the bundled example, generated large cases (a big memory, tables
//! of 1 000 to 100 000 slots), the C function registry (built with clang when it is
//! installed), and the real pipelines' un-initialized components when their scripts have
//! produced them (`examples/js/out`, `examples/python/out`).

use anyhow::{bail, Context, Result};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// How the init runs: what `compsnap`'s command line would be given.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    pub init: String,
    pub wasi: bool,
    pub dirs: Vec<(PathBuf, String)>,
    pub env: Vec<(String, String)>,
    pub stdin: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub bytes: Vec<u8>,
    pub setup: Setup,
    /// The first call after start-up, as WAVE.
    pub call: String,
    /// Repetitions for timings of whole snapshots (large inputs take seconds each).
    pub reps: usize,
}

impl Setup {
    fn plain(init: &str) -> Setup {
        Setup {
            init: init.into(),
            ..Setup::default()
        }
    }

    pub fn snapshotter(&self) -> compsnap::Snapshotter {
        let mut s = compsnap::Snapshotter::new();
        s.init_func(&self.init).allow_wasi(self.wasi);
        for (host, guest) in &self.dirs {
            s.dir(host, guest.as_str());
        }
        for (k, v) in &self.env {
            s.env(k, v);
        }
        if let Some(stdin) = &self.stdin {
            s.stdin(stdin.clone());
        }
        s
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every input that can be built here, with a note for each one that cannot.
pub fn all(quick: bool) -> (Vec<Input>, Vec<String>) {
    let mut inputs = Vec::new();
    let mut skipped = Vec::new();
    let lookup = std::fs::read(root().join("examples/lookup.wat")).expect("examples/lookup.wat");
    inputs.push(Input {
        name: "lookup (example)".into(),
        bytes: wat::parse_bytes(&lookup).expect("lookup.wat").into_owned(),
        setup: Setup::plain("wizer-initialize"),
        call: "run(3)".into(),
        // A run takes about 2 ms, which this machine's noise moves by ±50%: 10 rounds left
        // the ratio's median to chance (0.87 and 0.93 in two runs, rounds 0.67–2.26).
        reps: 60,
    });
    let mib = if quick { 16 } else { 64 };
    inputs.push(Input {
        name: format!("memory {mib} MiB"),
        bytes: wat::parse_str(memory_component(mib)).expect("memory WAT"),
        setup: Setup::plain("init"),
        call: "check()".into(),
        reps: 5,
    });
    for slots in [1_000u32, 10_000, 100_000] {
        inputs.push(Input {
            name: format!("table {slots} slots"),
            bytes: wat::parse_str(table_component(slots)).expect("table WAT"),
            setup: Setup::plain("init"),
            call: format!("call-all({slots})"),
            // A run takes 4–20 ms: 5 rounds left the ratio's median to chance (the 1 000
            // slot table's 0.93 and 1.36 in two runs of the same build, rounds 0.52–2.49).
            reps: 30,
        });
    }
    match c_registry() {
        Ok(input) => inputs.push(input),
        Err(e) => skipped.push(format!("C registry: {e:#}")),
    }
    for (dir, name) in [
        ("examples/js/out", "ComponentizeJS hello"),
        ("examples/python/out", "componentize-py hello"),
    ] {
        match pipeline(&root().join(dir), name) {
            Ok(input) => inputs.push(input),
            Err(e) => skipped.push(format!("{name}: {e:#}")),
        }
    }
    (inputs, skipped)
}

/// An init that fills `mib` MiB of memory with a pattern (every byte non-zero); `check` reads
/// a few words back.
pub fn memory_component(mib: u32) -> String {
    memory_component_filled(mib, false)
}

/// [`memory_component`], or with `half` the init writes zeros over the second half of every
/// 64 KiB page: a 1 GiB memory whose data still fits in a module (wasmparser takes modules
/// of up to 1 GiB).
pub fn memory_component_filled(mib: u32, half: bool) -> String {
    let pages = mib * 16;
    let mask = if half { 0x8000 } else { 0 };
    format!(
        r#"(component
  (core module $m
    (memory 1)
    (func (export "init") (local $p i32)
      (drop (memory.grow (i32.const {grow})))
      (loop $l
        (i64.store (local.get $p)
          (select
            (i64.const 0)
            (i64.or (i64.extend_i32_u (local.get $p)) (i64.const 0x0101010101010101))
            (i32.and (local.get $p) (i32.const {mask}))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $p) (i32.const {bytes})))))
    (func (export "check") (result i64)
      (i64.add (i64.load (i32.const 4096)) (i64.load (i32.const {last})))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "check") (result s64) (canon lift (core func $i "check"))))"#,
        grow = pages - 1,
        bytes = pages as u64 * 65536,
        last = pages as u64 * 65536 - 8,
    )
}

/// An init that grows a table to `slots` and fills it from a passive segment of 10 functions
/// of one type (what an interpreter's dispatch table or a plugin registry looks like);
/// `call-all(n)` calls the first `n` slots through `call_indirect` and sums the results.
pub fn table_component(slots: u32) -> String {
    let mut wat = String::from("(component (core module $m\n(type $t (func (result i32)))\n");
    for f in 0..10 {
        let _ = writeln!(wat, "(func $f{f} (type $t) (i32.const {f}))");
    }
    let funcs: String = (0..10).map(|f| format!(" $f{f}")).collect();
    let _ = writeln!(wat, "(table $tab 0 funcref)\n(elem $all func{funcs})");
    let _ = writeln!(
        wat,
        r#"(func (export "init") (local $i i32)
             (drop (table.grow $tab (ref.null func) (i32.const {slots})))
             (loop $l
               (table.init $tab $all (local.get $i) (i32.const 0) (i32.const 10))
               (local.set $i (i32.add (local.get $i) (i32.const 10)))
               (br_if $l (i32.lt_u (local.get $i) (i32.const {slots})))))
           (func (export "call-all") (param $n i32) (result i32) (local $i i32) (local $sum i32)
             (block $done (loop $l
               (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
               (local.set $sum (i32.add (local.get $sum)
                 (call_indirect $tab (type $t) (local.get $i))))
               (local.set $i (i32.add (local.get $i) (i32.const 1)))
               (br $l)))
             (local.get $sum)))
         (core instance $i (instantiate $m))
         (func (export "init") (canon lift (core func $i "init")))
         (func (export "call-all") (param "n" u32) (result u32)
           (canon lift (core func $i "call-all"))))"#
    );
    wat
}

/// [`table_component`] with its table declared at `slots` and no init run: the same
/// component with an empty table of the snapshot's size, which is what instantiating a table
/// that large costs Wasmtime itself.
pub fn empty_table_component(slots: u32) -> String {
    table_component(slots).replacen(
        "(table $tab 0 funcref)",
        &format!("(table $tab {slots} funcref)"),
        1,
    )
}

/// tests/c/registry.c, built the way tests/c_registry.rs builds it.
fn c_registry() -> Result<Input> {
    let dir = std::env::temp_dir().join(format!("compsnap-bench-c-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // The shared builder panics with the missing tool named; here that skips the input.
    let built = std::panic::catch_unwind(|| {
        let core = crate::c_build::registry_module(&dir);
        crate::c_build::wit_component(&core, crate::c_build::REGISTRY_WIT, "registry", true)
    });
    let _ = std::fs::remove_dir_all(&dir);
    let bytes = built.map_err(|e| {
        let why = e
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "building it failed".into());
        anyhow::anyhow!("{}", why.lines().next().unwrap_or_default())
    })?;
    Ok(Input {
        name: "C registry".into(),
        bytes,
        setup: Setup {
            init: "wizer-initialize".into(),
            wasi: true,
            env: vec![("PLUGINS".into(), "6".into())],
            ..Setup::default()
        },
        call: "dispatch(5, 7)".into(),
        // A run takes 10–20 ms; as the tables' rounds.
        reps: 30,
    })
}

/// A real pipeline's un-initialized component, as its script left it (see
/// `compsnap::capture`).
fn pipeline(dir: &Path, name: &str) -> Result<Input> {
    let path = dir.join("compsnap.args");
    if !path.exists() {
        bail!(
            "{} missing: run the pipeline's script first",
            path.display()
        );
    }
    let c = compsnap::capture::Capture::load(&path)?;
    Ok(Input {
        name: name.into(),
        bytes: std::fs::read(&c.input).with_context(|| format!("reading {}", c.input.display()))?,
        setup: setup_of(&c)?,
        call: c.calls.first().context("no `#call` line")?.clone(),
        reps: 2,
    })
}

/// How a captured pipeline's init runs.
pub fn setup_of(c: &compsnap::capture::Capture) -> Result<Setup> {
    let stdin = match &c.stdin {
        Some(p) => Some(std::fs::read(p).with_context(|| format!("reading {}", p.display()))?),
        None => None,
    };
    Ok(Setup {
        init: c.init.clone(),
        wasi: c.allow_wasi,
        dirs: c.dirs.clone(),
        env: c.env.clone(),
        stdin,
    })
}

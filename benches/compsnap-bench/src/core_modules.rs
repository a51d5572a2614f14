//! Core module inputs: compsnap beside wasmtime-wizer 48's core mode (what Wizer and
//! `wasmtime wizer` do) on inputs both accept, and ComponentizeJS's whole `componentize()`
//! call with its own Wizer against compsnap as its `wizerBin`.

use crate::inputs::Setup;
use crate::{alternately, median, ms, ratio, timed_pair, Table};
use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use wasmtime::{Config, Engine, InstancePre, Linker, Module, Store};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::WasiCtx;

/// A core module and how its init runs.
pub struct CoreInput {
    pub name: String,
    pub bytes: Vec<u8>,
    pub setup: Setup,
    pub reps: usize,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The core inputs that can be built here, and a note for each one that cannot.
pub fn inputs(quick: bool) -> (Vec<CoreInput>, Vec<String>) {
    let mut inputs = Vec::new();
    let mut skipped = Vec::new();
    let mib = if quick { 16 } else { 64 };
    inputs.push(CoreInput {
        name: format!("core memory {mib} MiB"),
        bytes: wat::parse_str(memory_module(mib)).expect("memory WAT"),
        setup: Setup {
            init: "init".into(),
            ..Setup::default()
        },
        reps: 5,
    });
    match c_program() {
        Ok(input) => inputs.push(input),
        Err(e) => skipped.push(format!("core C program: {e:#}")),
    }
    match starlingmonkey() {
        Ok(input) => inputs.push(input),
        Err(e) => skipped.push(format!("core StarlingMonkey engine: {e:#}")),
    }
    (inputs, skipped)
}

/// An init that fills `mib` MiB with a pattern, as the component case does.
fn memory_module(mib: u32) -> String {
    let pages = mib * 16;
    format!(
        r#"(module
          (memory {pages})
          (func (export "init") (local $i i32)
            (loop $l
              (i32.store (local.get $i) (i32.or (local.get $i) (i32.const 0x01010101)))
              (local.set $i (i32.add (local.get $i) (i32.const 4)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const {bytes})))))
          (func (export "run") (result i32) (i32.load (i32.const 4096))))"#,
        bytes = mib << 20
    )
}

/// tests/c/wasi_reads.c: a WASI preview 1 init reading stdin, the environment and a file.
fn c_program() -> Result<CoreInput> {
    let dir = std::env::temp_dir().join(format!("compsnap-bench-core-c-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("data"))?;
    std::fs::write(dir.join("data/config.txt"), "bench")?;
    let wasm = dir.join("reads.wasm");
    let status = Command::new("clang-14")
        .args(["--target=wasm32-wasi", "-mexec-model=reactor", "-O2"])
        .arg(root().join("tests/c/wasi_reads.c"))
        .arg("-o")
        .arg(&wasm)
        .status()
        .context("clang-14 (see .ci/run for the packages)")?;
    if !status.success() {
        bail!("clang-14 failed");
    }
    Ok(CoreInput {
        name: "core C program".into(),
        bytes: std::fs::read(&wasm)?,
        setup: Setup {
            init: "wizer.initialize".into(),
            wasi: true,
            dirs: vec![(dir.join("data"), "/data".into())],
            env: vec![("MODE".into(), "bench".into())],
            stdin: Some(b"some words for the init".to_vec()),
        },
        reps: 5,
    })
}

/// The StarlingMonkey engine module ComponentizeJS hands its Wizer, with that init's env,
/// stdin and preopens, from examples/js's capture.
fn starlingmonkey() -> Result<CoreInput> {
    let out = root().join("examples/js/out");
    let args = out.join("compsnap.args");
    if !args.exists() {
        bail!(
            "{} missing: run examples/js/build.mjs first",
            args.display()
        );
    }
    let c = compsnap::capture::Capture::load(&args)?;
    Ok(CoreInput {
        name: "core StarlingMonkey engine".into(),
        bytes: std::fs::read(out.join("capture/in.wasm")).context("capture/in.wasm")?,
        setup: crate::inputs::setup_of(&c)?,
        reps: 2,
    })
}

fn wasi(setup: &Setup) -> Result<WasiP1Ctx> {
    Ok(crate::peers::wasi(setup)?.build_p1())
}

/// wasmtime-wizer 48 on a core module, with WASI preview 1 as the setup gives it.
fn wizer(input: &CoreInput) -> Result<Vec<u8>> {
    let engine = Engine::new(&Config::new()).map_err(|e| anyhow!("{e}"))?;
    let mut store = Store::new(&engine, wasi(&input.setup)?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut wizer = wasmtime_wizer::Wizer::new();
    wizer.init_func(&input.setup.init);
    runtime
        .block_on(wizer.run(&mut store, &input.bytes, async |store, module| {
            let mut linker = Linker::new(store.engine());
            wasmtime_wasi::p1::add_to_linker_async(&mut linker, |c| c)?;
            linker.define_unknown_imports_as_traps(module)?;
            linker.instantiate_async(store, module).await
        }))
        .map_err(|e| anyhow!("{}", format!("{e:#}").lines().next().unwrap_or("")))
}

/// The median times to instantiate `a` and `b` (each compiled once), with WASI preview 1,
/// [`crate::alternately`].
fn instantiate_pair(a: &[u8], b: &[u8], reps: usize) -> Result<(Duration, Duration)> {
    let engine = Engine::default();
    let pre = |bytes: &[u8]| -> Result<InstancePre<WasiP1Ctx>> {
        let module = Module::new(&engine, bytes).map_err(|e| anyhow!("{e}"))?;
        let mut linker = Linker::<WasiP1Ctx>::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |c| c).map_err(|e| anyhow!("{e}"))?;
        linker
            .define_unknown_imports_as_traps(&module)
            .map_err(|e| anyhow!("{e}"))?;
        linker.instantiate_pre(&module).map_err(|e| anyhow!("{e}"))
    };
    let (pa, pb) = (pre(a)?, pre(b)?);
    let once = |pre: &InstancePre<WasiP1Ctx>| -> Result<Duration> {
        let mut store = Store::new(&engine, WasiCtx::builder().build_p1());
        let t = Instant::now();
        pre.instantiate(&mut store).map_err(|e| anyhow!("{e}"))?;
        Ok(t.elapsed())
    };
    let (ta, tb) = crate::alternately(reps, || once(&pa), || once(&pb))?;
    Ok((crate::median(ta), crate::median(tb)))
}

/// Snapshot time, output size and the output's instantiation time, compsnap over
/// wasmtime-wizer 48, on one core input.
pub fn bench(table: &mut Table, input: &CoreInput, quick: bool) -> Result<()> {
    let name = input.name.as_str();
    let reps = if quick { 1 } else { input.reps };
    let mut snap = input.setup.snapshotter();
    snap.inherit_stdio(false);
    if let Err(e) = wizer(input) {
        table.note(name, "wasmtime-wizer", format!("refuses: {e:#}"));
        return Ok(());
    }
    // Alternately, so that the machine's drift weighs on both sides alike.
    let (t_compsnap, ours, t_wizer, theirs, spread) =
        timed_pair(reps, || snap.snapshot(&input.bytes), || wizer(input))?;
    if let Ok(dir) = std::env::var("COMPSNAP_BENCH_KEEP") {
        let stem: String = name.chars().filter(|c| c.is_alphanumeric()).collect();
        std::fs::write(format!("{dir}/{stem}.wizer.wasm"), &theirs)?;
        std::fs::write(format!("{dir}/{stem}.compsnap.wasm"), &ours)?;
    }
    table.ratio(
        name,
        "snapshot / wasmtime-wizer",
        ratio(t_compsnap, t_wizer),
        Some(0.8),
        format!("{} / {}{spread}", ms(t_compsnap), ms(t_wizer)),
    );
    table.ratio(
        name,
        "output size / wasmtime-wizer's",
        ours.len() as f64 / theirs.len() as f64,
        Some(1.0),
        format!("{} / {} bytes", ours.len(), theirs.len()),
    );
    let n = crate::instantiate_rounds(quick);
    let (i_ours, i_theirs) = instantiate_pair(&ours, &theirs, n)?;
    table.ratio(
        name,
        "instantiate: snapshot / wasmtime-wizer's",
        ratio(i_ours, i_theirs),
        Some(1.0),
        format!("{} / {}", ms(i_ours), ms(i_theirs)),
    );
    Ok(())
}

/// ComponentizeJS's whole `componentize()` call (examples/js/componentize.mjs) with its own
/// Wizer and with compsnap as `wizerBin`, each with an empty compile cache and again warm.
/// ComponentizeJS runs its Wizer with only its own environment variables, so each tool runs
/// through a wrapper script that points its cache at a directory of the benchmark's: Wizer
/// keeps Wasmtime's cache (in `$XDG_CACHE_HOME/wasmtime`), compsnap its own. The call does
/// seconds of work besides the snapshot, which varies from run to run: so three rounds
/// (one with `--quick`), medians.
pub fn componentize_js(table: &mut Table, quick: bool) -> Result<()> {
    let name = "ComponentizeJS componentize()";
    let js = root().join("examples/js");
    let script = js.join("componentize.mjs");
    let wizer = js.join("node_modules/@bytecodealliance/wizer-linux-x64/wizer");
    if !wizer.exists() {
        bail!(
            "{} missing: run examples/js/build.mjs first",
            wizer.display()
        );
    }
    // The compsnap binary of the same build, next to this one.
    let compsnap = std::env::current_exe()?.with_file_name("compsnap");
    if !compsnap.exists() {
        bail!(
            "{} missing: cargo build --release -p compsnap",
            compsnap.display()
        );
    }
    let dir = std::env::temp_dir().join(format!("compsnap-bench-cjs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let wrapper = |tool: &str, bin: &Path, cache: &Path| -> Result<PathBuf> {
        let path = dir.join(format!("{tool}.sh"));
        let text = format!(
            "#!/bin/sh\nexport XDG_CACHE_HOME='{c}' COMPSNAP_CACHE_DIR='{c}/compsnap'\nexec '{}' \"$@\"\n",
            bin.display(),
            c = cache.display()
        );
        std::fs::write(&path, text)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        Ok(path)
    };
    let out = dir.join("out.wasm");
    let run = |wizer_bin: &Path| -> Result<Duration> {
        let t = Instant::now();
        let r = Command::new("node")
            .arg(&script)
            .arg("--wizer-bin")
            .arg(wizer_bin)
            .arg(&out)
            .output()
            .context("node")?;
        if !r.status.success() {
            bail!("{}", String::from_utf8_lossy(&r.stderr));
        }
        Ok(t.elapsed())
    };
    // Each round gives a tool an empty cache, then runs it cold and warm; the tools take
    // turns going first (`alternately`), and the medians over the rounds are compared.
    let rounds = if quick { 1 } else { 3 };
    let cold_then_warm = |tool: &str, bin: &Path, round: usize| -> Result<(Duration, Duration)> {
        let bin = wrapper(tool, bin, &dir.join(format!("{tool}-cache-{round}")))?;
        Ok((run(&bin)?, run(&bin)?))
    };
    let (mut wizer_round, mut our_round) = (0, 0);
    let (wizer_runs, our_runs) = alternately(
        rounds,
        || {
            wizer_round += 1;
            cold_then_warm("wizer", &wizer, wizer_round)
        },
        || {
            our_round += 1;
            cold_then_warm("compsnap", &compsnap, our_round)
        },
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    let medians = |runs: &[(Duration, Duration)]| {
        (
            median(runs.iter().map(|r| r.0).collect()),
            median(runs.iter().map(|r| r.1).collect()),
        )
    };
    let (wizer_cold, wizer_warm) = medians(&wizer_runs);
    let (ours_cold, ours_warm) = medians(&our_runs);
    table.ratio(
        name,
        "compsnap as wizerBin / its Wizer, both with empty caches",
        ratio(ours_cold, wizer_cold),
        Some(1.0),
        format!("{} / {}", ms(ours_cold), ms(wizer_cold)),
    );
    table.ratio(
        name,
        "compsnap as wizerBin, warm / its Wizer with an empty cache",
        ratio(ours_warm, wizer_cold),
        Some(0.5),
        format!("{} / {}", ms(ours_warm), ms(wizer_cold)),
    );
    table.ratio(
        name,
        "compsnap as wizerBin / its Wizer, both warm",
        ratio(ours_warm, wizer_warm),
        None,
        format!("{} / {}", ms(ours_warm), ms(wizer_warm)),
    );
    Ok(())
}

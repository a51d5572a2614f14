//! The `compsnap` command line: `compsnap [OPTIONS] <INPUT> -o <OUTPUT>`,
//! `compsnap inspect <FILE>` and `compsnap verify [OPTIONS] <INPUT> [--call CALL]...`; and
//! Wizer's command lines (`compsnap::wizer`), for pipelines that call a Wizer binary.

use anyhow::{bail, Context, Result};
use clap::Parser;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Pre-initialize a WebAssembly component or core module: run its init function once and write
/// one whose memories, globals and funcref tables already hold the result.
#[derive(Parser, Debug)]
#[command(
    name = "compsnap",
    version,
    after_help = "Also: `compsnap verify INPUT [--call 'f(1)']...` snapshots and checks the \
                  result against the original; `compsnap call FILE 'f(1)'...` calls a \
                  snapshot's exports; `compsnap cache [clear]` shows or empties the compile cache; \
                  `compsnap inspect FILE` prints a component's instance \
                  tree, sizes and the table slots Wasmtime folds into its image. Wizer's \
                  command lines work too: `compsnap --allow-wasi --init-func f -o=OUT IN` (Wizer \
                  10/11 flags, as ComponentizeJS's wizerBin) and `compsnap wizer -S cli ...` \
                  (wasmtime wizer's); see the README."
)]
struct Cli {
    /// The component or core module to pre-initialize (binary or WAT text).
    input: PathBuf,

    /// Where to write the pre-initialized component (replaced atomically, only on success).
    #[arg(short, long)]
    output: PathBuf,

    #[command(flatten)]
    opts: InitOptions,
}

/// How the init runs, and how compsnap reports: shared by snapshotting and `verify`.
#[derive(clap::Args, Debug)]
struct InitOptions {
    /// The init export: `name`, `ns:pkg/iface#name`, `ns:pkg/iface.name` or wasmtime-wizer's
    /// `ns:pkg/iface.name@version`, optionally with WAVE arguments such as `setup(7, "x")`;
    /// or a `[] -> []` core function that one core instance of the root exports and the
    /// component does not lift, e.g. `componentize.wizer`. For a core module input: its
    /// `[] -> []` function export.
    #[arg(short = 'f', long, default_value = compsnap::DEFAULT_INIT_FUNC)]
    init_func: String,

    /// Keep the init export in the output.
    #[arg(long)]
    keep_init_func: bool,

    /// Provide WASI to the init (preview 2 to a component, preview 1 to a core module); without
    /// it, any import the init calls fails.
    #[arg(long)]
    allow_wasi: bool,

    /// Preopen a host directory for the init, as HOST or HOST::GUEST (requires --allow-wasi).
    #[arg(long, value_name = "HOST[::GUEST]", requires = "allow_wasi")]
    dir: Vec<String>,

    /// Set an environment variable for the init, as K=V (requires --allow-wasi).
    #[arg(long, value_name = "K=V", requires = "allow_wasi")]
    env: Vec<String>,

    /// Pass compsnap's own environment to the init (requires --allow-wasi).
    #[arg(long, requires = "allow_wasi")]
    inherit_env: bool,

    /// Connect the init's stdin, stdout and stderr to compsnap's (requires --allow-wasi).
    #[arg(long, requires = "allow_wasi")]
    inherit_stdio: bool,

    /// Give the init the host's real clocks, randomness and writable preopens, as Wizer does.
    /// By default they are deterministic: randomness from a fixed seed, the wall clock at
    /// $SOURCE_DATE_EPOCH (else 2024-01-01), a monotonic clock advancing 1 µs per reading,
    /// read-only preopens whose files show that time as every timestamp, identities numbered
    /// in the order the init asks and listings sorted by name; the same input, flags and
    /// preopened contents then give the same output. Wizer's command lines take it too.
    #[arg(long)]
    host_world: bool,

    /// Compile the init's code with Cranelift's optimizations and its default register
    /// allocator. By default a core module, and a component with no table slots or
    /// reference globals to probe or whose probed functions share one plain type (a table
    /// only element segments fill is not probed), is compiled with Winch, and the rest (or
    /// what Winch does not support) without optimizations and with the single-pass register
    /// allocator, which is faster end to end unless the init computes for many seconds.
    /// With it, a trapping init's backtrace also shows each function's Wasm offset.
    #[arg(long)]
    optimize_init: bool,

    /// Feed FILE to the init's stdin (requires --allow-wasi).
    #[arg(
        long,
        value_name = "FILE",
        requires = "allow_wasi",
        conflicts_with = "inherit_stdio"
    )]
    stdin: Option<PathBuf>,

    /// Stop an init that runs longer than SECS seconds.
    #[arg(long, value_name = "SECS")]
    init_timeout: Option<f64>,

    /// Fail an init that grows any memory beyond BYTES.
    #[arg(long, value_name = "BYTES")]
    max_memory: Option<usize>,

    /// Compile without the cache of compiled components (by default in $COMPSNAP_CACHE_DIR,
    /// else $XDG_CACHE_HOME/compsnap or ~/.cache/compsnap). `compsnap cache clear` empties it.
    #[arg(long)]
    no_cache: bool,

    /// The most bytes the compile cache may take, least recently used entries going first
    /// (default $COMPSNAP_CACHE_MAX, else 2 GiB).
    #[arg(long, value_name = "BYTES")]
    cache_max: Option<u64>,

    /// Log each stage with its duration, and how each table's slots were written.
    #[arg(short, long)]
    verbose: bool,
}

/// `compsnap verify`: snapshot INPUT, then run the original (instantiate + init) and the
/// snapshot (instantiate only) side by side; compare all core state and the given calls.
/// Exits non-zero on any difference.
#[derive(Parser, Debug)]
#[command(name = "compsnap verify", bin_name = "compsnap verify")]
struct VerifyCli {
    /// The component to check (binary or WAT text).
    input: PathBuf,

    /// Also write the verified snapshot here (atomically, only when verification passes).
    #[arg(short, long)]
    output: Option<PathBuf>,

    /// A WAVE call to make on both after init, e.g. 'run(3)' or 'my:pkg/api#get("k")'.
    /// Repeatable; the calls run in order on one instance of each.
    #[arg(long = "call", value_name = "CALL")]
    calls: Vec<String>,

    #[command(flatten)]
    opts: InitOptions,
}

/// `compsnap call`: instantiate FILE (a snapshot, say) and make WAVE calls on it, in order on
/// one instance; each result is printed as WAVE, or `trap: …`. No init runs: a snapshot
/// needs none.
#[derive(Parser, Debug)]
#[command(name = "compsnap call", bin_name = "compsnap call")]
struct CallCli {
    /// The component or core module (binary or WAT text).
    file: PathBuf,

    /// WAVE calls, e.g. 'run(3)' or 'my:pkg/api#get("k")'.
    #[arg(required = true, value_name = "CALL")]
    calls: Vec<String>,

    /// Provide WASI (preview 2 to a component, preview 1 to a core module).
    #[arg(long)]
    allow_wasi: bool,

    /// Set an environment variable, as K=V (requires --allow-wasi).
    #[arg(long, value_name = "K=V", requires = "allow_wasi")]
    env: Vec<String>,
}

/// `compsnap inspect`: print a component's instance tree with DFS ids, each instance's
/// memory, global and table sizes, and per table how many slots Wasmtime folds into its image.
#[derive(Parser, Debug)]
#[command(name = "compsnap inspect", bin_name = "compsnap inspect")]
struct InspectCli {
    /// The component to inspect (binary or WAT text).
    file: PathBuf,
}

fn main() -> ExitCode {
    // `inspect` is a subcommand; anything else is the snapshot command, so the plain
    // `compsnap INPUT -o OUTPUT` form keeps working (a file named `inspect` is `./inspect`).
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(dialect) = wizer_dialect(&mut args) {
        return wizer(dialect, &args[1..]);
    }
    let result = if args.get(1).is_some_and(|a| a == "inspect") {
        args.remove(1);
        inspect(InspectCli::parse_from(args))
    } else if args.get(1).is_some_and(|a| a == "verify") {
        args.remove(1);
        verify(VerifyCli::parse_from(args))
    } else if args.get(1).is_some_and(|a| a == "cache") {
        cache(&args[2..])
    } else if args.get(1).is_some_and(|a| a == "call") {
        args.remove(1);
        call(CallCli::parse_from(args))
    } else {
        run(Cli::parse_from(args))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Which of Wizer's command lines `args` are, if any: the program called as `wizer`, the
/// subcommand `wizer` (`wasmtime wizer`'s), or flags only Wizer spells. The subcommand is
/// removed from `args`.
fn wizer_dialect(args: &mut Vec<std::ffi::OsString>) -> Option<compsnap::wizer::Dialect> {
    use compsnap::wizer::{looks_like_wizer, Dialect};
    let program = args.first().map(PathBuf::from);
    if program.and_then(|p| p.file_stem().map(|s| s == "wizer")) == Some(true) {
        return Some(Dialect::Wizer);
    }
    if args.get(1).is_some_and(|a| a == "wizer") {
        args.remove(1);
        return Some(Dialect::Wasmtime);
    }
    let text: Vec<String> = args.iter().map(|a| a.to_string_lossy().into()).collect();
    looks_like_wizer(&text[1..]).then_some(Dialect::Wizer)
}

/// Runs a Wizer command line. Errors are printed as Wizer prints them (`Error: ` and the
/// causes, one per line), which is what pipelines built around Wizer parse.
fn wizer(dialect: compsnap::wizer::Dialect, args: &[std::ffi::OsString]) -> ExitCode {
    let args: Vec<String> = args.iter().map(|a| a.to_string_lossy().into()).collect();
    match run_wizer(dialect, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", wizer_error(&e));
            ExitCode::FAILURE
        }
    }
}

/// `e` as Wizer (through anyhow) prints it: `Error: ` and the message, then the causes,
/// numbered when there are several, continuation lines indented under their cause.
fn wizer_error(e: &anyhow::Error) -> String {
    let mut out = format!("Error: {e}");
    let causes: Vec<String> = e.chain().skip(1).map(|c| c.to_string()).collect();
    if !causes.is_empty() {
        out.push_str("\n\nCaused by:");
    }
    for (i, cause) in causes.iter().enumerate() {
        let (label, indent) = match causes.len() {
            1 => (String::new(), "    "),
            _ => (format!("{i}: "), "       "),
        };
        out.push_str(&format!("\n    {label}"));
        out.push_str(&cause.replace('\n', &format!("\n{indent}")));
    }
    out
}

fn run_wizer(dialect: compsnap::wizer::Dialect, args: &[String]) -> Result<()> {
    use std::io::{Read, Write};
    let cmd = compsnap::wizer::parse(dialect, args)?;
    let input = match &cmd.input {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        None => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("reading the input from stdin")?;
            bytes
        }
    };
    let input = compsnap::read_input(&input)?;
    cmd.check_features(&input)?;
    let mut snap = cmd.snapshotter.clone();
    snap.cache_max(cache_max(None)?).cache_dir(cache_dir());
    match &cmd.output {
        Some(path) => snap.snapshot_to_file(&input, path).map(|_| ()),
        None => std::io::stdout()
            .write_all(&snap.snapshot(&input)?)
            .context("writing the output to stdout"),
    }
}

/// Where compiled components are cached; `None` when no directory can be named.
fn cache_dir() -> Option<PathBuf> {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    // Pipelines run their Wizer with a scrubbed environment (ComponentizeJS passes only its
    // own variables), so without HOME the user's home comes from the system.
    var("COMPSNAP_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("compsnap")))
        .or_else(|| std::env::home_dir().map(|d| d.join(".cache/compsnap")))
}

/// The compile cache's cap: `--cache-max`, else $COMPSNAP_CACHE_MAX, else the default.
fn cache_max(flag: Option<u64>) -> Result<u64> {
    if let Some(max) = flag {
        return Ok(max);
    }
    match std::env::var("COMPSNAP_CACHE_MAX") {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("COMPSNAP_CACHE_MAX={v}: expected a number of bytes")),
        Err(_) => Ok(compsnap::DEFAULT_CACHE_MAX),
    }
}

/// `compsnap cache [clear]`: where the compile cache is, or empty it.
fn cache(args: &[std::ffi::OsString]) -> Result<()> {
    let dir = cache_dir().context("no cache directory can be named (set COMPSNAP_CACHE_DIR)")?;
    match args
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => println!("{}", dir.display()),
        [cmd] if cmd == "clear" => {
            let (n, bytes) = compsnap::clear_cache(&dir)?;
            println!("removed {n} entries ({bytes} bytes) from {}", dir.display());
        }
        other => bail!("usage: compsnap cache [clear] (found {})", other.join(" ")),
    }
    Ok(())
}

fn call(cli: CallCli) -> Result<()> {
    let bytes =
        std::fs::read(&cli.file).with_context(|| format!("reading {}", cli.file.display()))?;
    let mut snap = compsnap::Snapshotter::new();
    snap.allow_wasi(cli.allow_wasi)
        .inherit_stdio(cli.allow_wasi);
    for kv in &cli.env {
        let Some((k, v)) = kv.split_once('=') else {
            bail!("--env {kv}: expected K=V");
        };
        snap.env(k, v);
    }
    let outcomes = snap
        .call(&bytes, &cli.calls)
        .with_context(|| format!("{}", cli.file.display()))?;
    for (call, outcome) in cli.calls.iter().zip(outcomes) {
        println!("{call} -> {outcome}");
    }
    Ok(())
}

fn inspect(cli: InspectCli) -> Result<()> {
    let bytes =
        std::fs::read(&cli.file).with_context(|| format!("reading {}", cli.file.display()))?;
    let bytes = compsnap::read_input(&bytes)?;
    print!("{}", compsnap::inspect(&bytes)?);
    Ok(())
}

fn snapshotter(cli: &InitOptions) -> Result<compsnap::Snapshotter> {
    let mut snap = compsnap::Snapshotter::new();
    snap.init_func(&cli.init_func)
        .keep_init_func(cli.keep_init_func)
        .allow_wasi(cli.allow_wasi)
        .inherit_env(cli.inherit_env)
        .inherit_stdio(cli.inherit_stdio)
        .verbose(cli.verbose)
        .fast_compile(!cli.optimize_init)
        .host_world(cli.host_world)
        .progress(std::io::stderr().is_terminal())
        .cache_max(cache_max(cli.cache_max)?)
        .cache_dir(match cli.no_cache {
            true => None,
            false => cache_dir(),
        });
    for dir in &cli.dir {
        let (host, guest) = match dir.split_once("::") {
            Some((h, g)) => (h, g),
            None => (dir.as_str(), dir.as_str()),
        };
        snap.dir(host, guest);
    }
    for kv in &cli.env {
        let Some((k, v)) = kv.split_once('=') else {
            bail!("--env {kv}: expected K=V");
        };
        snap.env(k, v);
    }
    if let Some(secs) = cli.init_timeout {
        if !(secs > 0.0 && secs.is_finite()) {
            bail!("--init-timeout {secs}: expected a positive number of seconds");
        }
        snap.init_timeout(Duration::from_secs_f64(secs));
    }
    if let Some(max) = cli.max_memory {
        snap.max_memory(max);
    }
    if let Some(path) = &cli.stdin {
        let bytes =
            std::fs::read(path).with_context(|| format!("--stdin: reading {}", path.display()))?;
        snap.stdin(bytes);
    }
    Ok(snap)
}

fn run(cli: Cli) -> Result<()> {
    let snap = snapshotter(&cli.opts)?;
    let input =
        std::fs::read(&cli.input).with_context(|| format!("reading {}", cli.input.display()))?;
    snap.snapshot_to_file(&input, &cli.output)
        .with_context(|| format!("{}", cli.input.display()))?;
    if cli.opts.verbose {
        let written = std::fs::metadata(&cli.output).map_or(0, |m| m.len());
        eprintln!(
            "compsnap: wrote {} ({written} bytes, input {} bytes)",
            cli.output.display(),
            input.len()
        );
    }
    Ok(())
}

fn verify(cli: VerifyCli) -> Result<()> {
    let snap = snapshotter(&cli.opts)?;
    let input =
        std::fs::read(&cli.input).with_context(|| format!("reading {}", cli.input.display()))?;
    let report = compsnap::verify::verify(&snap, &input, &cli.calls)
        .with_context(|| format!("{}", cli.input.display()))?;
    for c in &report.calls {
        let mark = if c.original == c.snapshot {
            "same"
        } else {
            "DIFFERENT"
        };
        println!("{mark}: {}", c.call);
        println!("  original after init: {}", c.original);
        println!("  snapshot:            {}", c.snapshot);
    }
    match &report.state {
        None => println!(
            "same: core state of every instance (memories, globals, tables, dropped segments)"
        ),
        Some(diff) => println!("DIFFERENT: core state: {diff}"),
    }
    if !report.passed() {
        bail!(
            "{}: the snapshot does not behave like the original after init",
            cli.input.display()
        );
    }
    if let Some(path) = &cli.output {
        compsnap::write_atomically(path, &report.output)?;
    }
    println!(
        "verified: {} ({} bytes)",
        cli.input.display(),
        report.output.len()
    );
    Ok(())
}

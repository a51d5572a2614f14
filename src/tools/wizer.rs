//! Wizer's command lines, accepted by the compsnap binary itself, so that a pipeline built
//! around Wizer (ComponentizeJS's `wizerBin`, StarlingMonkey's build) runs compsnap unchanged.
//!
//! Two dialects:
//! - **Wizer 10/11** (`wizer [FLAGS] [OPTIONS] [input]`): `--flag=value` and `--flag value`,
//!   booleans as `--x`, `--x=true`, `--x=false`; `--dir DIR` preopens DIR at the same path,
//!   `--mapdir GUEST::HOST`; stdio is inherited unless `--inherit-stdio=false`; the init
//!   defaults to `wizer.initialize`; without `-o` the output goes to stdout, without an input
//!   the module comes from stdin.
//! - **`wasmtime wizer`** (`compsnap wizer [OPTIONS] <input>`): `-S cli`, `-S inherit-env`,
//!   `-S inherit-stdio`, `-W <feature>[=y|n]`, `--dir HOST[::GUEST]`, `--env K[=V]`; the init
//!   defaults to `wizer-initialize`.
//!
//! Both take compsnap's `--host-world` too: like every compsnap run, a Wizer command line
//! runs the init in the deterministic world (fixed randomness, clocks at
//! `SOURCE_DATE_EPOCH`, read-only preopens with normalized metadata), so its output is
//! reproducible; `--host-world` gives the init what Wizer gives it.
//!
//! Every Wasm feature compsnap always enables is a no-op when turned on; turning one off that
//! the input uses is an error naming the flag.

use crate::Snapshotter;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use wasmparser::WasmFeatures;

/// Which Wizer's command line a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The Wizer 10/11 binary (what ComponentizeJS spawns).
    Wizer,
    /// `wasmtime wizer`, spelled `compsnap wizer`.
    Wasmtime,
}

/// A parsed Wizer command line.
#[derive(Debug, Clone)]
pub struct WizerCommand {
    /// The snapshotter the flags configure.
    pub snapshotter: Snapshotter,
    /// The input file; `None` reads stdin.
    pub input: Option<PathBuf>,
    /// The output file; `None` writes stdout.
    pub output: Option<PathBuf>,
    /// Wasm features the command line turned off: (flag as given, the feature).
    pub disabled: Vec<(String, WasmFeatures)>,
}

impl WizerCommand {
    /// Checks that `input` uses none of the features the command line turned off.
    pub fn check_features(&self, input: &[u8]) -> Result<()> {
        for (flag, feature) in &self.disabled {
            let features = WasmFeatures::all().difference(*feature);
            if wasmparser::Validator::new_with_features(features)
                .validate_all(input)
                .is_err()
            {
                bail!("the input uses a Wasm feature that `{flag}` turns off");
            }
        }
        Ok(())
    }
}

/// Whether `args` (without the program name) are a Wizer 10/11 command line rather than
/// compsnap's own: they use a spelling only Wizer has.
pub fn looks_like_wizer(args: &[String]) -> bool {
    args.iter().any(|a| {
        let flag = a.split('=').next().unwrap_or(a);
        matches!(
            flag,
            "--mapdir" | "--rename-func" | "--func-rename" | "--preload" | "-r"
        ) || flag.starts_with("--wasm-")
            || (a.contains('=') && BOOLEANS.contains(&flag))
            || a.starts_with("-o=")
            || a.starts_with("-f=")
    })
}

/// Wizer's boolean flags.
const BOOLEANS: &[&str] = &[
    "--allow-wasi",
    "--inherit-env",
    "--inherit-stdio",
    "--keep-init-func",
];

/// The Wasm features Wizer's `--wasm-*` and wasmtime's `-W` flags name.
fn feature(name: &str) -> Option<WasmFeatures> {
    Some(match name {
        "bulk-memory" => WasmFeatures::BULK_MEMORY,
        "multi-memory" => WasmFeatures::MULTI_MEMORY,
        "multi-value" => WasmFeatures::MULTI_VALUE,
        "reference-types" => WasmFeatures::REFERENCE_TYPES,
        "simd" => WasmFeatures::SIMD,
        "relaxed-simd" => WasmFeatures::RELAXED_SIMD,
        "memory64" => WasmFeatures::MEMORY64,
        "tail-call" => WasmFeatures::TAIL_CALL,
        "threads" => WasmFeatures::THREADS,
        "gc" => WasmFeatures::GC,
        "function-references" => WasmFeatures::FUNCTION_REFERENCES,
        "exceptions" => WasmFeatures::EXCEPTIONS,
        "extended-const" => WasmFeatures::EXTENDED_CONST,
        "component-model" => WasmFeatures::COMPONENT_MODEL,
        "module-linking" => return Some(WasmFeatures::empty()),
        _ => return None,
    })
}

fn boolean(flag: &str, value: &str) -> Result<bool> {
    match value {
        "true" | "y" | "yes" => Ok(true),
        "false" | "n" | "no" => Ok(false),
        other => bail!("{flag}: expected true or false, found `{other}`"),
    }
}

/// Parses a Wizer command line (without the program name, and for [`Dialect::Wasmtime`]
/// without the `wizer` subcommand).
pub fn parse(dialect: Dialect, args: &[String]) -> Result<WizerCommand> {
    let mut snap = Snapshotter::new();
    snap.init_func(match dialect {
        Dialect::Wizer => "wizer.initialize",
        Dialect::Wasmtime => crate::DEFAULT_INIT_FUNC,
    });
    // Both inherit stdio by default, as `wizer` and `wasmtime` do.
    let mut inherit_stdio = true;
    let mut cmd = WizerCommand {
        snapshotter: Snapshotter::new(),
        input: None,
        output: None,
        disabled: Vec::new(),
    };
    let mut args = args.iter();
    let mut positional = Vec::new();
    while let Some(arg) = args.next() {
        if arg == "--" {
            positional.extend(args.by_ref().cloned());
            break;
        }
        if !arg.starts_with('-') || arg == "-" {
            positional.push(arg.clone());
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        let mut value = || -> Result<String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => args
                    .next()
                    .cloned()
                    .with_context(|| format!("{flag} needs a value")),
            }
        };
        // A boolean: `--x` or `--x=true|false`, never a separate value.
        let on = || -> Result<bool> { inline.as_deref().map_or(Ok(true), |v| boolean(flag, v)) };
        match (dialect, flag) {
            (_, "-f" | "--init-func") => {
                snap.init_func(value()?);
            }
            (_, "-o" | "--output") => cmd.output = Some(PathBuf::from(value()?)),
            (_, "--keep-init-func") => {
                snap.keep_init_func(on()?);
            }
            (_, "-r" | "--rename-func" | "--func-rename") => {
                let spec = value()?;
                let Some((dst, src)) = spec.split_once('=') else {
                    bail!("{flag} {spec}: expected dst=src");
                };
                snap.rename_func(dst, src);
            }
            // compsnap's own: the host's clocks, randomness and writable preopens, exactly
            // as Wizer runs an init (the deterministic world is the default here too).
            (_, "--host-world") => {
                snap.host_world(on()?);
            }
            (_, "--preload") => {
                let spec = value()?;
                let Some((name, path)) = spec.split_once('=') else {
                    bail!("{flag} {spec}: expected name=file.wasm");
                };
                let bytes =
                    std::fs::read(path).with_context(|| format!("{flag}: reading {path}"))?;
                let bytes = crate::read_input(&bytes)?.into_owned();
                snap.preload(name, bytes);
            }
            (Dialect::Wizer, "--allow-wasi") => {
                snap.allow_wasi(on()?);
            }
            (Dialect::Wizer, "--inherit-env") => {
                snap.inherit_env(on()?);
            }
            (Dialect::Wizer, "--inherit-stdio") => inherit_stdio = on()?,
            (Dialect::Wizer, "--dir") => {
                let dir = value()?;
                snap.dir(&dir, dir.as_str());
            }
            (Dialect::Wizer, "--mapdir") => {
                let spec = value()?;
                let Some((guest, host)) = spec.split_once("::") else {
                    bail!("{flag} {spec}: expected GUEST_DIR::HOST_DIR");
                };
                snap.dir(host, guest);
            }
            (Dialect::Wizer, _) if flag.starts_with("--wasm-") => {
                let name = &flag["--wasm-".len()..];
                let feature = feature(name).with_context(|| format!("unknown flag {flag}"))?;
                if !on()? {
                    cmd.disabled.push((arg.clone(), feature));
                }
            }
            (Dialect::Wasmtime, "--dir") => {
                let spec = value()?;
                let (host, guest) = spec.split_once("::").unwrap_or((&spec, &spec));
                snap.dir(host, guest);
            }
            (Dialect::Wasmtime, "--env") => {
                let spec = value()?;
                match spec.split_once('=') {
                    Some((k, v)) => snap.env(k, v),
                    // `--env K` passes the host's value of K.
                    None => match std::env::var(&spec) {
                        Ok(v) => snap.env(&spec, v),
                        Err(_) => &mut snap,
                    },
                };
            }
            (Dialect::Wasmtime, "-S") => {
                for option in value()?.split(',') {
                    let (name, v) = option.split_once('=').unwrap_or((option, "y"));
                    let on = boolean(&format!("-S {name}"), v)?;
                    match name {
                        "cli" | "preview2" | "common" => {
                            snap.allow_wasi(on);
                        }
                        "inherit-env" => {
                            snap.inherit_env(on);
                        }
                        "inherit-stdio" => inherit_stdio = on,
                        other => bail!("-S {other}: compsnap does not provide this WASI option"),
                    }
                }
            }
            (Dialect::Wasmtime, "-W") => {
                for option in value()?.split(',') {
                    let (name, v) = option.split_once('=').unwrap_or((option, "y"));
                    let on = boolean(&format!("-W {name}"), v)?;
                    // An import the init calls and nobody provides always traps, with its name.
                    if name == "unknown-imports-trap" {
                        continue;
                    }
                    let feature =
                        feature(name).with_context(|| format!("-W {name}: unknown option"))?;
                    if !on {
                        cmd.disabled.push((format!("-W {option}"), feature));
                    }
                }
            }
            _ => bail!("unknown flag `{arg}` (a Wizer command line, see `compsnap --help`)"),
        }
    }
    match positional.as_slice() {
        [] => {}
        [input] => cmd.input = Some(PathBuf::from(input)),
        more => bail!(
            "expected one input file, found {}: {}",
            more.len(),
            more.join(" ")
        ),
    }
    // WASI's stdio is only there with WASI.
    snap.inherit_stdio(inherit_stdio);
    cmd.snapshotter = snap;
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    /// ComponentizeJS 0.23's exact spawn of its `wizerBin`.
    #[test]
    fn componentize_js_command_line() {
        let a = args(
            "--allow-wasi --init-func componentize.wizer --dir=/tmp/src --mapdir=/::/work \
             --wasm-bulk-memory=true --inherit-env=true -o=/tmp/out.wasm /tmp/in.wasm",
        );
        assert!(looks_like_wizer(&a));
        let cmd = parse(Dialect::Wizer, &a).unwrap();
        assert_eq!(
            cmd.input.as_deref(),
            Some(std::path::Path::new("/tmp/in.wasm"))
        );
        assert_eq!(
            cmd.output.as_deref(),
            Some(std::path::Path::new("/tmp/out.wasm"))
        );
        assert!(cmd.disabled.is_empty());
        let s = format!("{:?}", cmd.snapshotter);
        for part in [
            "init_func: \"componentize.wizer\"",
            "allow_wasi: true",
            "inherit_env: true",
            "inherit_stdio: true",
            "(\"/tmp/src\", \"/tmp/src\")",
            "(\"/work\", \"/\")",
        ] {
            assert!(s.contains(part), "{part} in {s}");
        }
    }

    #[test]
    fn booleans_values_and_errors() {
        let cmd = parse(
            Dialect::Wizer,
            &args(
                "--keep-init-func=false --inherit-stdio=false -r _start=run --wasm-simd=false in",
            ),
        )
        .unwrap();
        let s = format!("{:?}", cmd.snapshotter);
        assert!(s.contains("keep_init_func: false"), "{s}");
        assert!(s.contains("inherit_stdio: false"), "{s}");
        assert!(s.contains("(\"_start\", \"run\")"), "{s}");
        assert_eq!(cmd.disabled.len(), 1);
        assert!(parse(Dialect::Wizer, &args("--allow-wasi=maybe in")).is_err());
        assert!(parse(Dialect::Wizer, &args("--bogus in")).is_err());
        let host = parse(Dialect::Wizer, &args("--allow-wasi --host-world in")).unwrap();
        assert_eq!(host.snapshotter.world(), crate::World::Host);
        let default = parse(Dialect::Wasmtime, &args("in")).unwrap();
        assert_ne!(default.snapshotter.world(), crate::World::Host);
        assert!(parse(Dialect::Wizer, &args("-o")).is_err());
        assert!(!looks_like_wizer(&args("in.wasm -o out.wasm --allow-wasi")));
    }

    /// StarlingMonkey's `wasmtime wizer` line.
    #[test]
    fn wasmtime_wizer_command_line() {
        let cmd = parse(
            Dialect::Wasmtime,
            &args("-S cli -S inherit-env -W bulk-memory -W unknown-imports-trap --dir d -o o in"),
        )
        .unwrap();
        let s = format!("{:?}", cmd.snapshotter);
        assert!(s.contains("init_func: \"wizer-initialize\""), "{s}");
        assert!(s.contains("allow_wasi: true"), "{s}");
        assert!(s.contains("inherit_env: true"), "{s}");
        assert!(s.contains("(\"d\", \"d\")"), "{s}");
        assert!(parse(Dialect::Wasmtime, &args("-S http in")).is_err());
        let off = parse(Dialect::Wasmtime, &args("-W simd=n in")).unwrap();
        assert_eq!(off.disabled.len(), 1);
    }
}

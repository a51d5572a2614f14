//! A pipeline capture: what a build pipeline's init needs, written down as compsnap
//! arguments, so the same init can be run, snapshotted, checked and benchmarked again.
//!
//! `examples/js/build.mjs` and `examples/python/capture.sh` write one (`compsnap.args`) next
//! to the un-initialized component they extract. The format is one command-line argument per
//! line (a flag and its value on separate lines), plus `#input FILE`, `#reference FILE` (the
//! component the pipeline pre-initialized itself) and `#call CALL` (WAVE calls to compare)
//! lines, and `# …` comments. Paths are relative to the file's directory.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// One captured pipeline init.
#[derive(Debug, Clone, Default)]
pub struct Capture {
    /// The un-initialized component.
    pub input: PathBuf,
    /// The component the pipeline pre-initialized itself, to compare answers with.
    pub reference: Option<PathBuf>,
    /// WAVE calls to compare.
    pub calls: Vec<String>,
    /// The init function spec.
    pub init: String,
    /// The init gets WASI.
    pub allow_wasi: bool,
    /// Preopened directories: host path, guest path.
    pub dirs: Vec<(PathBuf, String)>,
    /// Environment variables of the init.
    pub env: Vec<(String, String)>,
    /// A file the init reads as stdin.
    pub stdin: Option<PathBuf>,
}

impl Capture {
    /// Reads a capture file (`compsnap.args`).
    pub fn load(path: &Path) -> Result<Capture> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Capture::parse(&text, dir).with_context(|| format!("{}", path.display()))
    }

    /// Parses a capture's text; relative paths are relative to `dir`.
    pub fn parse(text: &str, dir: &Path) -> Result<Capture> {
        let at = |p: &str| dir.join(p);
        let mut c = Capture {
            init: crate::DEFAULT_INIT_FUNC.into(),
            ..Capture::default()
        };
        let mut input = None;
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        while let Some(line) = lines.next() {
            if let Some(rest) = line.strip_prefix('#') {
                let (key, value) = rest.split_once(' ').unwrap_or((rest, ""));
                match key {
                    "input" => input = Some(at(value.trim())),
                    "reference" => c.reference = Some(at(value.trim())),
                    "call" => c.calls.push(value.trim().to_string()),
                    _ => {} // a comment
                }
                continue;
            }
            let (flag, inline) = match line.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                _ => (line, None),
            };
            let mut value = || -> Result<String> {
                match inline.clone() {
                    Some(v) => Ok(v),
                    None => lines
                        .next()
                        .map(str::to_string)
                        .with_context(|| format!("{flag} has no value")),
                }
            };
            match flag {
                "--allow-wasi" => c.allow_wasi = true,
                "-f" | "--init-func" => c.init = value()?,
                "--env" => {
                    let kv = value()?;
                    let (k, v) = kv
                        .split_once('=')
                        .with_context(|| format!("--env {kv}: expected K=V"))?;
                    c.env.push((k.into(), v.into()));
                }
                "--dir" => {
                    let d = value()?;
                    let (host, guest) = d.split_once("::").unwrap_or((&d, &d));
                    c.dirs.push((at(host), guest.to_string()));
                }
                "--stdin" => c.stdin = Some(at(&value()?)),
                other => bail!("unsupported line `{other}`"),
            }
        }
        c.input = input.context("no `#input FILE` line")?;
        Ok(c)
    }

    /// A snapshotter that runs the init as the pipeline would.
    #[cfg(feature = "engine")]
    pub fn snapshotter(&self) -> Result<crate::Snapshotter> {
        let mut s = crate::Snapshotter::new();
        s.init_func(&self.init).allow_wasi(self.allow_wasi);
        for (host, guest) in &self.dirs {
            s.dir(host, guest.as_str());
        }
        for (k, v) in &self.env {
            s.env(k, v);
        }
        if let Some(path) = &self.stdin {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            s.stdin(bytes);
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::Capture;
    use std::path::Path;

    #[test]
    fn flags_values_and_test_lines() {
        let text = "# written by a script\n#input in.wasm\n#reference ref.wasm\n\
                    #call f(\"a b\")\n--allow-wasi\n-f\ncomponentize.wizer\n--env\nA=1=2\n\
                    --dir\np/0::/src\n--dir=p/1\n--stdin\nstdin.txt\n";
        let c = Capture::parse(text, Path::new("/out")).unwrap();
        assert_eq!(c.input, Path::new("/out/in.wasm"));
        assert_eq!(c.reference.as_deref(), Some(Path::new("/out/ref.wasm")));
        assert_eq!(c.calls, ["f(\"a b\")"]);
        assert!(c.allow_wasi);
        assert_eq!(c.init, "componentize.wizer");
        assert_eq!(c.env, [("A".to_string(), "1=2".to_string())]);
        assert_eq!(
            c.dirs[0],
            (Path::new("/out/p/0").into(), "/src".to_string())
        );
        assert_eq!(c.dirs[1], (Path::new("/out/p/1").into(), "p/1".to_string()));
        assert_eq!(c.stdin.as_deref(), Some(Path::new("/out/stdin.txt")));
        assert!(Capture::parse("#input x\n--bogus\n", Path::new(".")).is_err());
        assert!(Capture::parse("--allow-wasi\n", Path::new(".")).is_err());
    }
}

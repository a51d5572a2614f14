//! compsnap-bench: compsnap beside plain Wasmtime and wasmtime-wizer 48, printed as one table
//! of ratios. Every ratio's two sides are measured in the same run, on the same input and
//! host setup, as medians of repeated runs: these machines are shared and noisy, so absolute
//! times mean little and ratios are what the targets are about.
//!
//! ```text
//! cargo run --release -p compsnap-bench            # everything (minutes: real pipelines)
//! cargo run --release -p compsnap-bench -- --quick # one repetition, smaller cases
//! cargo run --release -p compsnap-bench -- --only table
//! ```

#[path = "../../../tests/common/c_build.rs"]
mod c_build;
mod core_modules;
mod inputs;
mod peers;

use anyhow::{anyhow, Context, Result};
use inputs::Input;
use std::time::{Duration, Instant};

struct Row {
    input: String,
    measure: String,
    value: String,
    target: &'static str,
    /// `Some(true)` met, `Some(false)` missed, `None` no target.
    met: Option<bool>,
}

pub(crate) struct Table(Vec<Row>);

impl Table {
    fn ratio(
        &mut self,
        input: &str,
        measure: &str,
        ratio: f64,
        target: Option<f64>,
        detail: String,
    ) {
        let (target_text, met) = match target {
            Some(t) => (format!("≤ {t}"), Some(ratio <= t)),
            None => (String::new(), None),
        };
        self.0.push(Row {
            input: input.into(),
            measure: measure.into(),
            value: format!("{ratio:.3} ({detail})"),
            target: Box::leak(target_text.into_boxed_str()),
            met,
        });
    }

    fn note(&mut self, input: &str, measure: &str, value: String) {
        self.0.push(Row {
            input: input.into(),
            measure: measure.into(),
            value,
            target: "",
            met: None,
        });
    }

    fn print(&self) {
        println!("| input | measure | ratio (sides) | target | |");
        println!("|---|---|---|---|---|");
        for r in &self.0 {
            let mark = match r.met {
                Some(true) => "met",
                Some(false) => "MISSED",
                None => "",
            };
            println!(
                "| {} | {} | {} | {} | {mark} |",
                r.input, r.measure, r.value, r.target
            );
        }
    }
}

pub(crate) fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// How many times each side of an "instantiate" row instantiates: a run takes microseconds,
/// and 20 left a byte-identical output's ratio to the machine's noise (1.00 to 1.07).
pub(crate) fn instantiate_rounds(quick: bool) -> usize {
    if quick {
        20
    } else {
        200
    }
}

/// The untimed pause after each run; see [`repeated`].
const SETTLE: Duration = Duration::from_millis(2);

/// `f`, `reps` times (at least once), each run followed by an untimed pause: the results in
/// order. compsnap drops a small guest on one of its own threads once it has returned (0.1 ms
/// of unmapping); the pause lets that end before the next run, so that no run, compsnap's or
/// a peer's, pays for the one before.
pub(crate) fn repeated<T>(reps: usize, mut f: impl FnMut() -> Result<T>) -> Result<Vec<T>> {
    let mut results = Vec::new();
    for _ in 0..reps.max(1) {
        results.push(f()?);
        std::thread::sleep(SETTLE);
    }
    Ok(results)
}

/// `f`, `reps` times ([`repeated`]): the median time and the last result.
pub(crate) fn timed<T>(reps: usize, mut f: impl FnMut() -> Result<T>) -> Result<(Duration, T)> {
    let runs = repeated(reps, || {
        let t = Instant::now();
        let result = f()?;
        Ok((t.elapsed(), result))
    })?;
    Ok(median_and_last(runs))
}

/// `f` and `g`, `reps` times each, alternately and each going first every other time, so
/// that the machine's drift weighs on both sides of their ratio alike: their results.
pub(crate) fn alternately<A, B>(
    reps: usize,
    mut f: impl FnMut() -> Result<A>,
    mut g: impl FnMut() -> Result<B>,
) -> Result<(Vec<A>, Vec<B>)> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for i in 0..reps.max(1) {
        if i % 2 == 0 {
            a.push(f()?);
            b.push(g()?);
        } else {
            b.push(g()?);
            a.push(f()?);
        }
    }
    Ok((a, b))
}

/// Every one of `runs`, `reps` rounds, round `i` starting with `runs[i % n]` and going on
/// in order: [`alternately`] for any number of sides. Each run is followed by the pause of
/// [`repeated`]. A side that always ran right after the same other side, or in a block of
/// its own, would take that side's after-effects (memory it freed, caches it cooled) or the
/// machine's drift for its own.
pub(crate) fn rotated(reps: usize, runs: &mut [&mut dyn FnMut() -> Result<()>]) -> Result<()> {
    let n = runs.len();
    for i in 0..reps.max(1) {
        for k in 0..n {
            (runs[(i + k) % n])()?;
            std::thread::sleep(SETTLE);
        }
    }
    Ok(())
}

/// The lowest and highest ratio of `a[i]` to `b[i]`: how far one round's ratio spread.
fn spread(a: &[Duration], b: &[Duration]) -> Spread {
    Spread(
        a.iter()
            .zip(b)
            .map(|(x, y)| ratio(*x, *y))
            .fold(None, |range, r| match range {
                None => Some((r, r)),
                Some((lo, hi)) => Some((r.min(lo), r.max(hi))),
            }),
    )
}

/// [`alternately`], timed: the median time of each, the last result of each, and how far
/// the ratio of one run's two times spread.
pub(crate) fn timed_pair<A, B>(
    reps: usize,
    mut f: impl FnMut() -> Result<A>,
    mut g: impl FnMut() -> Result<B>,
) -> Result<(Duration, A, Duration, B, Spread)> {
    let (a, b) = alternately(reps, || timed(1, &mut f), || timed(1, &mut g))?;
    let a_times: Vec<Duration> = a.iter().map(|r| r.0).collect();
    let b_times: Vec<Duration> = b.iter().map(|r| r.0).collect();
    let spread = spread(&a_times, &b_times);
    let (ta, a) = median_and_last(a);
    let (tb, b) = median_and_last(b);
    Ok((ta, a, tb, b, spread))
}

/// The lowest and highest ratio of the two sides' times in one round of [`timed_pair`]:
/// what the machine's noise does to a ratio. Shown after a row's sides when there was more
/// than one round.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spread(Option<(f64, f64)>);

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some((lo, hi)) if lo != hi => write!(f, "; rounds {lo:.2}–{hi:.2}"),
            _ => Ok(()),
        }
    }
}

fn median_and_last<T>(runs: Vec<(Duration, T)>) -> (Duration, T) {
    let median = median(runs.iter().map(|(t, _)| *t).collect());
    let last = runs.into_iter().last().expect("one run").1;
    (median, last)
}

pub(crate) fn ms(d: Duration) -> String {
    match d.as_secs_f64() {
        s if s >= 1.0 => format!("{s:.2} s"),
        s if s >= 1e-3 => format!("{:.2} ms", s * 1e3),
        s => format!("{:.1} µs", s * 1e6),
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("rss") {
        return rss_child(&args[1..]);
    }
    let quick = args.iter().any(|a| a == "--quick");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let (inputs, skipped) = inputs::all(quick);
    let mut table = Table(Vec::new());
    for (index, input) in inputs.iter().enumerate() {
        if only
            .as_ref()
            .is_some_and(|o| !input.name.contains(o.as_str()))
        {
            continue;
        }
        eprintln!("compsnap-bench: {}", input.name);
        if let Err(e) = bench_input(&mut table, index, input, quick) {
            if std::env::var_os("BENCH_DEBUG").is_some() {
                eprintln!("{e:?}");
            }
            table.note(&input.name, "error", format!("{e:#}"));
        }
    }
    let (core_inputs, core_skipped) = core_modules::inputs(quick);
    for input in &core_inputs {
        if only
            .as_ref()
            .is_some_and(|o| !input.name.contains(o.as_str()))
        {
            continue;
        }
        eprintln!("compsnap-bench: {}", input.name);
        if let Err(e) = core_modules::bench(&mut table, input, quick) {
            table.note(&input.name, "error", format!("{e:#}"));
        }
    }
    if only
        .as_ref()
        .is_none_or(|o| "componentize".contains(o.as_str()))
    {
        eprintln!("compsnap-bench: ComponentizeJS componentize()");
        if let Err(e) = core_modules::componentize_js(&mut table, quick) {
            table.note("ComponentizeJS componentize()", "skipped", format!("{e:#}"));
        }
    }
    if only.as_ref().is_none_or(|o| "table".contains(o.as_str())) {
        if let Err(e) = table_scaling(&mut table, quick) {
            table.note("tables", "error", format!("{e:#}"));
        }
    }
    if only.as_ref().is_none_or(|o| "scale".contains(o.as_str())) {
        if let Err(e) = memory_scaling(&mut table, quick) {
            table.note("memories", "error", format!("{e:#}"));
        }
    }
    table.print();
    for s in skipped.iter().chain(&core_skipped) {
        println!("\nskipped: {s}");
    }
    Ok(())
}

fn bench_input(table: &mut Table, index: usize, input: &Input, quick: bool) -> Result<()> {
    let name = input.name.as_str();
    let reps = if quick { 1 } else { input.reps };
    let mut snap = input.setup.snapshotter();
    // COMPSNAP_BENCH_VERBOSE=1 logs every stage of every compsnap run.
    snap.verbose(std::env::var_os("COMPSNAP_BENCH_VERBOSE").is_some());

    // Snapshot time, cold (no compile cache), against what any tool must at least do (plain
    // Wasmtime's compile + init) and against wasmtime-wizer when it accepts the input, the
    // three in rotating rounds (`rotated`). Every row takes the medians over the rounds (the
    // last run's one sample left these rows to its noise).
    let wizer_accepts = peers::wizer(input, true);
    let (mut bases, mut ours, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut output, mut wizer_out) = (Vec::new(), Vec::new());
    {
        let mut plain = || -> Result<()> {
            bases.push(peers::baseline(input).context("plain Wasmtime run")?);
            Ok(())
        };
        let mut compsnap = || -> Result<()> {
            let t = Instant::now();
            let snapshot = snap.snapshot(&input.bytes).context("compsnap")?;
            ours.push(t.elapsed());
            // The last run's output goes untimed.
            output = snapshot;
            Ok(())
        };
        let mut wizer = || -> Result<()> {
            let t = Instant::now();
            let snapshot = peers::wizer(input, true)?;
            theirs.push(t.elapsed());
            wizer_out = snapshot;
            Ok(())
        };
        let mut runs: Vec<&mut dyn FnMut() -> Result<()>> = vec![&mut plain, &mut compsnap];
        if wizer_accepts.is_ok() {
            runs.push(&mut wizer);
        }
        rotated(reps, &mut runs)?;
    }
    let compile_init: Vec<Duration> = bases.iter().map(|b| b.compile + b.start).collect();
    let against_plain = spread(&ours, &compile_init);
    let (t_cold, t_compile_init) = (median(ours.clone()), median(compile_init));
    let t_original_start = median(bases.iter().map(|b| b.start).collect());
    let base = bases.pop().expect("one run");
    let wizer = wizer_accepts.map(|_| {
        let spread = spread(&ours, &theirs);
        (median(theirs), wizer_out, spread)
    });
    table.ratio(
        name,
        "snapshot / (Wasmtime compile + init)",
        ratio(t_cold, t_compile_init),
        Some(1.10),
        format!("{} / {}{against_plain}", ms(t_cold), ms(t_compile_init)),
    );

    // compsnap compiles the one-shot init without Cranelift's optimizations by default.
    let mut optimized = snap.clone();
    optimized.fast_compile(false);
    let (t_opt, _) = timed(reps, || optimized.snapshot(&input.bytes))?;
    table.ratio(
        name,
        "snapshot: default (opt-level none) / --optimize-init",
        ratio(t_cold, t_opt),
        None,
        format!("{} / {}", ms(t_cold), ms(t_opt)),
    );

    let cache = std::env::temp_dir().join(format!("compsnap-bench-cache-{}", std::process::id()));
    let mut warm = snap.clone();
    warm.cache_dir(Some(cache.clone()));
    warm.snapshot(&input.bytes)?;
    let (t_warm, _) = timed(reps, || warm.snapshot(&input.bytes))?;

    // Start-up: instantiate + first call of the snapshot vs instantiate + init + first call.
    let engine = peers::engine(true);
    let compiled =
        wasmtime::component::Component::new(&engine, &output).map_err(|e| anyhow!("{e}"))?;
    let pre = peers::prepare(&engine, &compiled, &input.setup)?;
    let runs = if quick { 3 } else { 3 * input.reps.max(5) };
    let mut starts = Vec::new();
    let mut first = Vec::new();
    for _ in 0..runs {
        let (t, results) = peers::start(&engine, &pre, input)?;
        starts.push(t);
        first = results;
    }
    let t_start = median(starts);
    if format!("{first:?}") != format!("{:?}", base.first_call) {
        table.note(
            name,
            "first call",
            format!(
                "MISMATCH: snapshot {first:?}, original {:?}",
                base.first_call
            ),
        );
    }
    table.ratio(
        name,
        "start: snapshot / original + init",
        ratio(t_start, t_original_start),
        None,
        format!("{} / {}", ms(t_start), ms(t_original_start)),
    );

    // wasmtime-wizer on the same input.
    let mut wizer_accepts = false;
    match wizer {
        Ok((t_wizer, wizer_out, spread)) => {
            wizer_accepts = true;
            // Like for like: both keep the init export.
            let mut kept = snap.clone();
            kept.keep_init_func(true).cache_dir(Some(cache.clone()));
            let output = kept.snapshot(&input.bytes)?;
            let compiled = wasmtime::component::Component::new(&engine, &output)
                .map_err(|e| anyhow!("{e}"))?;
            let pre = peers::prepare(&engine, &compiled, &input.setup)?;
            table.ratio(
                name,
                "snapshot / wasmtime-wizer",
                ratio(t_cold, t_wizer),
                Some(0.8),
                format!("{} / {}{spread}", ms(t_cold), ms(t_wizer)),
            );
            let warm_target = name.contains("componentize-py").then_some(0.25);
            table.ratio(
                name,
                "snapshot, warm cache / wasmtime-wizer",
                ratio(t_warm, t_wizer),
                warm_target,
                format!("{} / {}", ms(t_warm), ms(t_wizer)),
            );
            if let Ok(dir) = std::env::var("COMPSNAP_BENCH_KEEP") {
                let stem: String = name.chars().filter(|c| c.is_alphanumeric()).collect();
                std::fs::write(format!("{dir}/{stem}.wizer.wasm"), &wizer_out)?;
                std::fs::write(format!("{dir}/{stem}.compsnap.wasm"), &output)?;
            }
            let wizer_compiled = wasmtime::component::Component::new(&engine, &wizer_out)
                .map_err(|e| anyhow!("compiling wasmtime-wizer's output: {e:?}"))?;
            let wizer_pre = peers::prepare(&engine, &wizer_compiled, &input.setup)?;
            let (ours, theirs) = alternately(
                instantiate_rounds(quick),
                || peers::instantiate(&engine, &pre, input),
                || peers::instantiate(&engine, &wizer_pre, input),
            )?;
            let (ours, theirs) = (median(ours), median(theirs));
            table.ratio(
                name,
                "instantiate: snapshot / wasmtime-wizer's",
                ratio(ours, theirs),
                Some(1.0),
                format!("{} / {}", ms(ours), ms(theirs)),
            );
            table.ratio(
                name,
                "output size / wasmtime-wizer's",
                output.len() as f64 / wizer_out.len() as f64,
                Some(1.0),
                format!("{} / {} bytes", output.len(), wizer_out.len()),
            );
        }
        Err(e) => {
            table.ratio(
                name,
                "snapshot, warm cache / cold",
                ratio(t_warm, t_cold),
                None,
                format!("{} / {}", ms(t_warm), ms(t_cold)),
            );
            table.note(name, "wasmtime-wizer", format!("refuses: {e:#}"));
        }
    }

    let _ = std::fs::remove_dir_all(&cache);

    // Peak memory, in child processes so that earlier runs do not count. The process's own
    // footprint (code, Wasmtime, the inputs) is not the job's. The 1.5× target is the
    // issue's for inputs whose guest memory is the job (the memory inputs); compiling a 10 MB
    // component takes some 300 MB whatever its guest holds, and there the target is
    // wasmtime-wizer's peak.
    let memory_input = name.starts_with("memory ");
    rss_rows(
        table,
        name,
        &index.to_string(),
        wizer_accepts,
        quick,
        |guest| (memory_input && guest >= 4e6).then_some(1.5),
    );
    Ok(())
}

/// The peak RSS rows of one input (`rss`'s INPUT): compsnap's over the guest memory and
/// input, with the target `target(guest + input)` gives, and against wasmtime-wizer's when it
/// accepts the input. Each side is the median of [`RSS_ROUNDS`] children, compsnap's and
/// wasmtime-wizer's alternating: one child each left a small input's ratio to chance (the
/// lookup example's peaks spread over 20.4–20.7 MB for compsnap and 20.6–20.7 MB for
/// wasmtime-wizer in five children each).
fn rss_rows(
    table: &mut Table,
    name: &str,
    input: &str,
    wizer: bool,
    quick: bool,
    target: impl Fn(f64) -> Option<f64>,
) {
    let rounds = if quick { 1 } else { RSS_ROUNDS };
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut wizer_error = None;
    let mut sizes = [0.0; 2];
    for _ in 0..rounds {
        match rss(input, "compsnap", quick) {
            Ok([base, hwm, guest, input_len]) => {
                ours.push((hwm - base, base, hwm));
                sizes = [guest, input_len];
            }
            Err(e) => return table.note(name, "peak RSS", format!("{e:#}")),
        }
        if wizer && wizer_error.is_none() {
            match rss(input, "wizer", quick) {
                Ok([wbase, whwm, ..]) => theirs.push(whwm - wbase),
                Err(e) => wizer_error = Some(e),
            }
        }
    }
    let [guest, input_len] = sizes;
    ours.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (above, base, hwm) = ours[ours.len() / 2];
    table.ratio(
        name,
        "peak RSS above start / (guest memory + input)",
        above / (guest + input_len),
        target(guest + input_len),
        format!(
            "({:.1} - {:.1}) MB / ({:.1} + {:.1}) MB",
            hwm / 1e6,
            base / 1e6,
            guest / 1e6,
            input_len / 1e6
        ),
    );
    match wizer_error {
        Some(e) => table.note(name, "peak RSS, wasmtime-wizer", format!("{e:#}")),
        None if wizer => {
            theirs.sort_by(f64::total_cmp);
            let their = theirs[theirs.len() / 2];
            table.ratio(
                name,
                "peak RSS above start: compsnap / wasmtime-wizer",
                above / their,
                Some(1.0),
                format!(
                    "{:.1} / {:.1} MB, medians of {rounds}",
                    above / 1e6,
                    their / 1e6
                ),
            )
        }
        None => {}
    }
}

/// How many children each side of a peak RSS row takes the median of.
const RSS_ROUNDS: usize = 5;

/// Runs `compsnap-bench rss INPUT TOOL` (an index into `inputs::all`, or `scale:MIB`) and
/// reads its four numbers.
fn rss(input: &str, tool: &str, quick: bool) -> Result<[f64; 4]> {
    let mut cmd = std::process::Command::new(std::env::current_exe()?);
    cmd.arg("rss").arg(input).arg(tool);
    if quick {
        cmd.arg("--quick");
    }
    let out = cmd.output().context("running the rss child")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let nums: Vec<f64> = text
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    nums.try_into().map_err(|_| {
        let stderr = String::from_utf8_lossy(&out.stderr);
        // A panicking peer prints its backtrace too: the message is enough for the table.
        let message: Vec<&str> = stderr
            .lines()
            .take_while(|l| !l.starts_with("Stack backtrace") && !l.starts_with("stack backtrace"))
            .collect();
        anyhow!("child failed: {}", message.join(" ").trim())
    })
}

/// `compsnap-bench rss INPUT TOOL [--quick]`: one cold snapshot by compsnap or
/// wasmtime-wizer; prints the resident size before it, the peak, the guest's memory after
/// init and the input size, in bytes.
fn rss_child(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let input = match args.first().map(String::as_str) {
        // `rss scale:MIB TOOL`: the scale rows' half-filled memory.
        Some(scale) if scale.starts_with("scale:") => scale_input(scale[6..].parse()?)?,
        _ => {
            let index: usize = args.first().context("rss INDEX")?.parse()?;
            let (mut inputs, _) = inputs::all(quick);
            anyhow::ensure!(index < inputs.len(), "no such input");
            inputs.swap_remove(index)
        }
    };
    let input = &input;
    // The peak so far is building the inputs (`inputs::all` reads every one, the pipelines'
    // components of 10 MB and more): start the peak from here, or the small inputs' rows
    // measure that, on both sides (the lookup example's 21 MB above start of either tool was
    // all of it; each tool's own is 14 MB).
    reset_peak_rss()?;
    let base = status_kb("VmRSS")?;
    let guest = match args.get(1).map(String::as_str) {
        Some("wizer") => {
            peers::wizer(input, true)?;
            0
        }
        _ => {
            let mut snap = input.setup.snapshotter();
            snap.max_memory(2 << 30);
            // As the command line writes its output: straight into the file.
            let out = std::env::temp_dir()
                .join(format!("compsnap-bench-rss-{}.wasm", std::process::id()));
            let stats = snap.snapshot_to_file(&input.bytes, &out);
            let _ = std::fs::remove_file(&out);
            stats?.guest_memory
        }
    };
    let hwm = status_kb("VmHWM")?;
    println!(
        "{} {} {} {}",
        base * 1024.0,
        hwm * 1024.0,
        guest,
        input.bytes.len()
    );
    Ok(())
}

/// Resets the process's peak RSS (`VmHWM`) to what it uses now (Linux 4.0 and later).
fn reset_peak_rss() -> Result<()> {
    std::fs::write("/proc/self/clear_refs", "5").context("resetting the peak RSS")
}

fn status_kb(field: &str) -> Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("{field} in /proc/self/status"))
}

/// The table is an image: instantiating a snapshot costs what instantiating an empty table of
/// the same size costs (Wasmtime allocates every slot either way), from 1 000 to 1 000 000
/// slots. And what Wasmtime's lazy table initialization trades: instantiation against the
/// first indirect call through each slot.
fn table_scaling(table: &mut Table, quick: bool) -> Result<()> {
    let runs = if quick { 20 } else { 200 };
    let mut base = None;
    let sizes: &[u32] = match quick {
        true => &[1_000, 10_000, 100_000],
        false => &[1_000, 10_000, 100_000, 1_000_000],
    };
    for &slots in sizes {
        let input = Input {
            name: format!("table {slots} slots"),
            bytes: wat::parse_str(inputs::table_component(slots))?,
            setup: Default::default(),
            call: format!("call-all({slots})"),
            reps: 1,
        };
        let mut snap = compsnap::Snapshotter::new();
        snap.init_func("init");
        let (t_snap, output) = timed(1, || snap.snapshot(&input.bytes))?;
        table.note(&input.name, "growth: snapshot time", ms(t_snap));
        for lazy in [true, false] {
            let engine = peers::engine(lazy);
            let compiled = wasmtime::component::Component::new(&engine, &output)
                .map_err(|e| anyhow!("{e}"))?;
            let pre = peers::prepare(&engine, &compiled, &input.setup)?;
            // Wasmtime allocates (and zeroes) every slot at instantiation, image or not: the
            // image is flat if the table costs no more than an empty one. The two sides
            // alternate: in blocks of their own, 200 runs of one and then of the other, the
            // 100 000 slot row read 0.999 in one run and 1.235 in the next.
            let (inst, empty) = match lazy {
                true => {
                    let empty = wat::parse_str(inputs::empty_table_component(slots))?;
                    let empty = wasmtime::component::Component::new(&engine, &empty)
                        .map_err(|e| anyhow!("{e}"))?;
                    let empty_pre = peers::prepare(&engine, &empty, &input.setup)?;
                    let (inst, empty) = alternately(
                        runs,
                        || peers::instantiate(&engine, &pre, &input),
                        || peers::instantiate(&engine, &empty_pre, &input),
                    )?;
                    (inst, Some(median(empty)))
                }
                false => {
                    let inst = (0..runs).map(|_| peers::instantiate(&engine, &pre, &input));
                    (inst.collect::<Result<Vec<_>>>()?, None)
                }
            };
            let (mut first, mut steady) = (Vec::new(), Vec::new());
            for _ in 0..(runs / 10).max(3) {
                let mut store = peers::store(&engine, &input.setup)?;
                let instance = pre.instantiate(&mut store).map_err(|e| anyhow!("{e}"))?;
                let t = Instant::now();
                peers::call(&mut store, &instance, &input.call)?;
                first.push(t.elapsed());
                let t = Instant::now();
                peers::call(&mut store, &instance, &input.call)?;
                steady.push(t.elapsed());
            }
            let inst = median(inst);
            let (first, steady) = (median(first), median(steady));
            let mode = if lazy { "lazy on" } else { "lazy off" };
            if let Some(empty) = empty {
                table.note(
                    &input.name,
                    "growth: instantiate time, and of an empty table of this size",
                    format!("{}, {}", ms(inst), ms(empty)),
                );
                table.ratio(
                    &input.name,
                    "instantiate / instantiate an empty table of this size",
                    ratio(inst, empty),
                    Some(1.1),
                    format!("{} / {}", ms(inst), ms(empty)),
                );
                if let Some(b) = base {
                    table.ratio(
                        &input.name,
                        "instantiate / at 1 000 slots",
                        ratio(inst, b),
                        None,
                        format!("{} / {}", ms(inst), ms(b)),
                    );
                }
                base.get_or_insert(inst);
            }
            if slots == 100_000 {
                let rate = |d: Duration| slots as f64 / d.as_secs_f64() / 1e6;
                table.note(
                    &input.name,
                    &format!("table_lazy_init {mode}"),
                    format!(
                        "instantiate {}, first pass {:.0} M calls/s, then {:.0} M calls/s",
                        ms(inst),
                        rate(first),
                        rate(steady)
                    ),
                );
            }
        }
    }
    Ok(())
}

/// The scale rows' input: an init that writes `mib` MiB, every second 32 KiB with zeros.
fn scale_input(mib: u32) -> Result<Input> {
    Ok(Input {
        name: format!("memory {mib} MiB, half non-zero (scale)"),
        bytes: wat::parse_str(inputs::memory_component_filled(mib, true))?,
        setup: inputs::Setup {
            init: "init".into(),
            ..Default::default()
        },
        call: "check()".into(),
        reps: 1,
    })
}

/// Snapshot and instantiation time of memories of 1 MiB to 1 GiB an init writes, as a growth
/// table; the 1024 MiB snapshot should take at most 2.2 times the 512 MiB one (linear), and
/// peak memory stay within 1.5 times the guest's. The init writes zeros over half of every
/// page: a memory of 1 GiB of non-zero bytes cannot be snapshotted by any tool, as its data
/// segments make a module larger than the 1 GiB wasmparser (and so Wasmtime) accepts.
fn memory_scaling(table: &mut Table, quick: bool) -> Result<()> {
    let sizes: &[u32] = match quick {
        true => &[1, 16, 32],
        false => &[1, 64, 512, 1024],
    };
    let mut snaps = Vec::new();
    for &mib in sizes {
        let input = scale_input(mib)?;
        let mut snap = input.setup.snapshotter();
        snap.max_memory(2 << 30);
        // Three runs left the 1 GiB / 512 MiB ratio to chance (1.960 and 2.261 in two runs of
        // builds that differ in nothing these rows run).
        let reps = 5;
        // One untimed run first, so the timed runs find the host's memory as the last run left
        // it: the 1 GiB / 512 MiB ratio read 3.360 in one full run and 1.959, 2.003 in the next
        // two, on the same build.
        drop(snap.snapshot(&input.bytes)?);
        let (t_snap, output) = timed(reps, || snap.snapshot(&input.bytes))?;
        let engine = peers::engine(true);
        let compiled =
            wasmtime::component::Component::new(&engine, &output).map_err(|e| anyhow!("{e}"))?;
        let pre = peers::prepare(&engine, &compiled, &input.setup)?;
        let inst = median(
            (0..20)
                .map(|_| peers::instantiate(&engine, &pre, &input))
                .collect::<Result<Vec<_>>>()?,
        );
        drop((compiled, output));
        table.note(
            &input.name,
            "growth: snapshot time, instantiate time",
            format!("{}, {}", ms(t_snap), ms(inst)),
        );
        snaps.push((mib, t_snap));
    }
    if let [.., (a, ta), (b, tb)] = snaps[..] {
        table.ratio(
            &format!("memory {b} MiB vs {a} MiB (scale)"),
            "snapshot time ratio (linear is the size ratio)",
            ratio(tb, ta),
            (b == 2 * a).then_some(2.2),
            format!("{} / {}", ms(tb), ms(ta)),
        );
        let name = format!("memory {b} MiB, half non-zero (scale)");
        rss_rows(table, &name, &format!("scale:{b}"), true, quick, |_| {
            Some(1.5)
        });
    }
    Ok(())
}

pub(crate) fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

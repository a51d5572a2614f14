//! A one-line progress display on stderr for the stages that take seconds to minutes on large
//! components (a ComponentizeJS or componentize-py component compiles for tens of seconds).
//! Cranelift reports no progress, so the line names the stage and its elapsed time, redrawn
//! a few times a second; stages with a known amount of work (one dump per instance node) also
//! show a bar. Drawn only when asked for, which the command line does when stderr is a
//! terminal; the line is erased when the run ends, so logs and errors stay clean.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const WIDTH: usize = 24;

#[derive(Debug)]
struct Line {
    stage: String,
    since: Instant,
    count: Option<(u64, u64)>,
}

/// The running display; [`Progress::stage`] and [`Progress::count`] update it.
#[derive(Debug)]
pub struct Progress {
    line: Arc<Mutex<Line>>,
    stop: Arc<AtomicBool>,
    drawer: Option<JoinHandle<()>>,
}

impl Progress {
    pub fn start() -> Progress {
        let line = Arc::new(Mutex::new(Line {
            stage: "starting".into(),
            since: Instant::now(),
            count: None,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let drawer = {
            let (line, stop) = (line.clone(), stop.clone());
            std::thread::spawn(move || {
                // A stage that ends within the first moment never flickers on screen.
                std::thread::sleep(Duration::from_millis(300));
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(line) = line.lock() {
                        draw(&line);
                    }
                    std::thread::sleep(Duration::from_millis(150));
                }
                let _ = write!(std::io::stderr(), "\r\x1b[2K");
            })
        };
        Progress {
            line,
            stop,
            drawer: Some(drawer),
        }
    }

    pub fn stage(&self, stage: impl Into<String>) {
        if let Ok(mut line) = self.line.lock() {
            *line = Line {
                stage: stage.into(),
                since: Instant::now(),
                count: None,
            };
        }
    }

    pub fn count(&self, done: u64, total: u64) {
        if let Ok(mut line) = self.line.lock() {
            line.count = Some((done, total));
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(drawer) = self.drawer.take() {
            let _ = drawer.join();
        }
    }
}

fn draw(line: &Line) {
    let secs = line.since.elapsed().as_secs_f64();
    let bar = match line.count {
        Some((done, total)) if total > 0 => {
            let filled = (done.min(total) as usize * WIDTH) / total as usize;
            format!(
                " [{}{}] {done}/{total}",
                "#".repeat(filled),
                ".".repeat(WIDTH - filled)
            )
        }
        _ => String::new(),
    };
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2Kcompsnap: {}{bar} {secs:.1} s", line.stage);
    let _ = err.flush();
}

// Only the drawer thread and the line live here; a panic elsewhere leaves them consistent
// (a poisoned line is simply no longer drawn), so the builder that holds a Progress stays
// usable across `catch_unwind`.
impl std::panic::UnwindSafe for Progress {}
impl std::panic::RefUnwindSafe for Progress {}
